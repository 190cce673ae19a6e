# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A counting proxy on a unix socket: forwards every byte to the Docker socket and counts HTTP requests.

Requests are counted by parsing the client-to-daemon stream (request line, headers, Content-Length or
chunked body), so keep-alive connections that carry several requests are counted exactly. Responses
are forwarded untouched. Bench-only; runs in a thread of the bench process:

    with CountingProxy("/tmp/bosun-bench.sock") as proxy:
        ...  # point docker_host at unix:///tmp/bosun-bench.sock
        proxy.requests  # [(method, path), ...]
"""

from __future__ import annotations

import os
import re
import socket
import threading
import typing as t
import contextlib

UPSTREAM = "/var/run/docker.sock"
_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]$")


class _RequestParser:
    """Incremental HTTP/1.1 request framing: feed bytes, get (method, path) per complete request head."""

    def __init__(self) -> None:
        self.buf = b""
        self.body_left = 0  # bytes of a Content-Length body still to skip
        self.chunked = False  # inside a chunked body

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        self.buf += data
        out: list[tuple[str, str]] = []
        while True:
            if self.body_left:
                n = min(self.body_left, len(self.buf))
                self.buf, self.body_left = self.buf[n:], self.body_left - n
                if self.body_left:
                    return out
            if self.chunked:
                if not self._skip_chunks():
                    return out
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return out
            head, self.buf = self.buf[:end], self.buf[end:][4:]
            lines = head.split(b"\r\n")
            m = _REQUEST_LINE.match(lines[0])
            if not m:  # not HTTP (a hijacked stream): stop parsing this connection
                self.buf, self.body_left = b"", 1 << 62
                return out
            out.append((m.group(1).decode(), m.group(2).decode("latin-1")))
            headers = {}
            for line in lines[1:]:
                k, _colon, v = line.partition(b":")
                headers[k.strip().lower()] = v.strip()
            if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                self.chunked = True
            else:
                self.body_left = int(headers.get(b"content-length", b"0") or 0)

    def _skip_chunks(self) -> bool:
        """Consume complete chunks; True when the body ended."""
        while True:
            eol = self.buf.find(b"\r\n")
            if eol < 0:
                return False
            size = int(self.buf[:eol].split(b";")[0] or b"0", 16)
            need = eol + 2 + size + 2
            if size == 0:  # last chunk, no trailers expected from the SDK
                if len(self.buf) < eol + 4:
                    return False
                self.buf, self.chunked = self.buf[eol:][4:], False
                return True
            if len(self.buf) < need:
                return False
            self.buf = self.buf[need:]


class CountingProxy:
    def __init__(self, path: str, upstream: str = UPSTREAM) -> None:
        self.path = path
        self.upstream = upstream
        self.requests: list[tuple[str, str]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._stop = False

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def reset(self) -> None:
        with self._lock:
            self.requests = []
            self.connections = 0

    def __enter__(self) -> CountingProxy:
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        os.chmod(self.path, 0o600)
        self._server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self._stop = True
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop:
            try:
                client = self._server.accept()[0]
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.upstream)
        except OSError:
            client.close()
            return
        parser = _RequestParser()

        def pump(src: socket.socket, dst: socket.socket, count: bool) -> None:
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if count:
                        found = parser.feed(data)
                        if found:
                            with self._lock:
                                self.requests.extend(found)
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pump, args=(upstream, client, False), daemon=True)
        back.start()
        pump(client, upstream, True)
        back.join()
        client.close()
        upstream.close()


if __name__ == "__main__":  # manual use: python bench/sockproxy.py /tmp/x.sock, then Ctrl+C prints the counts
    import sys
    import time

    with CountingProxy(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bosun-bench.sock") as p:
        print(f"listening on {p.url}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        for method, path in p.requests:
            print(method, path)
        print(f"{len(p.requests)} request(s) on {p.connections} connection(s)")
