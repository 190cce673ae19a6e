# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real HTTP server on 127.0.0.1 in a thread that records every request (the unit and integration tests of
the ping and webhook share it). ``statuses`` answers the next requests with those codes (then 200);
``delay`` makes each answer late; ``on_request`` is called in the server thread with each request."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import threading
import time
import typing as t


@dataclasses.dataclass
class Request:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    at: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> t.Any:
        return json.loads(self.body)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self.on_request: t.Callable[[Request], None] | None = None
        self._lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, self.path, self.rfile.read(length), dict(self.headers), time.time())
                with recorder._lock:  # pylint: disable=protected-access
                    recorder.requests.append(req)
                    status = recorder.statuses.pop(0) if recorder.statuses else 200
                if recorder.on_request is not None:
                    recorder.on_request(req)
                time.sleep(recorder.delay)
                with contextlib.suppress(OSError):  # a client that gave up (a timeout test) closed the socket
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base class's name
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def paths(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if r.path.startswith(prefix)]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Request]:
        """At least ``count`` requests, waiting up to ``timeout`` seconds for them."""
        deadline = time.time() + timeout
        while len(self.requests) < count and time.time() < deadline:
            time.sleep(0.05)
        return list(self.requests)

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
