# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ping and the webhook against a real HTTP server on 127.0.0.1 (http_recorder): paths, bodies, retries."""

from __future__ import annotations

from http import server as http_server
import socket
import threading
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._notify import Http, ping, ping_url, webhook
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.http_recorder import Recorder

TOKEN = "9f0c7d1e-secret-token"


@pytest.fixture
def server() -> t.Iterator[Recorder]:
    with Recorder() as rec:
        yield rec


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http(sleeps: list[float]) -> Http:
    return Http(timeout=2.0, attempts=3, backoff=1.0, sleep=sleeps.append)


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        ("https://hc-ping.com/abc", "start", "https://hc-ping.com/abc/start"),
        ("https://hc-ping.com/abc/", "fail", "https://hc-ping.com/abc/fail"),
        ("https://hc-ping.com/abc", "success", "https://hc-ping.com/abc"),
        ("https://hc.example/ping/key/slug?create=1", "start", "https://hc.example/ping/key/slug/start?create=1"),
    ],
)
def test_ping_url_adds_the_kinds_suffix_before_the_query(url: str, kind: t.Any, expected: str) -> None:
    assert ping_url(url, kind) == expected


def test_each_ping_kind_posts_its_body_to_its_path(server: Recorder, http: Http) -> None:
    base = f"{server.url}/{TOKEN}"
    sent = [ping(base, "start", "started", http), ping(base, "success", "done", http), ping(base, "fail", "bad", http)]
    assert [(s.signal, s.ok, s.detail, s.attempts) for s in sent] == [
        ("ping start", True, "sent (HTTP 200)", 1),
        ("ping success", True, "sent (HTTP 200)", 1),
        ("ping fail", True, "sent (HTTP 200)", 1),
    ]
    assert [(r.method, r.path, r.text) for r in server.requests] == [
        ("POST", f"/{TOKEN}/start", "started"),
        ("POST", f"/{TOKEN}", "done"),
        ("POST", f"/{TOKEN}/fail", "bad"),
    ]
    assert server.requests[0].headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_long_body_is_cut(server: Recorder, http: Http) -> None:
    ping(server.url, "fail", "x" * 50_000, http)
    assert len(server.requests[0].body) == 10_000


def test_the_webhook_posts_one_json_document(server: Recorder, http: Http) -> None:
    sent = webhook(f"{server.url}/hook?key={TOKEN}", {"job": "backup", "outcome": "success", "n": 1.5}, http)
    assert sent.ok and sent.signal == "webhook"
    (req,) = server.requests
    assert req.path == f"/hook?key={TOKEN}" and req.headers["Content-Type"] == "application/json"
    assert req.json() == {"job": "backup", "outcome": "success", "n": 1.5}


def test_a_server_error_is_retried_with_a_growing_pause(server: Recorder, http: Http, sleeps: list[float]) -> None:
    server.statuses = [503, 502]
    sent = ping(f"{server.url}/{TOKEN}", "success", "done", http)
    assert (sent.ok, sent.attempts, sent.detail) == (True, 3, "sent (HTTP 200)")
    assert sleeps == [1.0, 2.0] and len(server.requests) == 3


def test_attempts_are_bounded_and_the_warning_names_no_url(server: Recorder, http: Http, sleeps: list[float]) -> None:
    server.statuses = [500, 500, 500, 500]
    sent = ping(f"{server.url}/{TOKEN}", "fail", "bad", http)
    assert not sent.ok and sent.attempts == 3 and len(server.requests) == 3 and sleeps == [1.0, 2.0]
    assert sent.warning == "ping fail failed after 3 attempts: HTTP 500 Internal Server Error"


def test_a_client_error_is_not_retried(server: Recorder, http: Http, sleeps: list[float]) -> None:
    server.statuses = [404]
    sent = webhook(f"{server.url}/{TOKEN}", {}, http)
    assert (sent.ok, sent.attempts, sent.detail) == (False, 1, "failed: HTTP 404 Not Found")
    assert sleeps == []


def test_too_many_requests_is_retried(server: Recorder, http: Http) -> None:
    server.statuses = [429]
    assert ping(server.url, "start", "", http).attempts == 2


def test_a_refused_connection_fails_without_the_url(http: Http) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{TOKEN}?k={TOKEN}"
    sent = ping(url, "start", "", http)
    assert not sent.ok and sent.attempts == 3 and "refused" in sent.detail.lower()
    assert TOKEN not in sent.detail and str(port) not in sent.detail


def test_a_slow_server_times_out(server: Recorder, sleeps: list[float]) -> None:
    server.delay = 1.0
    sent = ping(server.url, "start", "", Http(timeout=0.2, attempts=2, backoff=0.1, sleep=sleeps.append))
    assert not sent.ok and sent.attempts == 2 and "timed out" in sent.detail
    assert sent.detail.startswith("failed after 2 attempts: ")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/x", "hc-ping.com/abc", ""])
def test_only_http_and_https_urls_are_used(url: str, http: Http) -> None:
    sent = ping(url, "start", "", http)
    assert (sent.ok, sent.attempts, sent.detail) == (False, 0, "not sent: the URL is not an http or https URL")


class Redirect(http_server.BaseHTTPRequestHandler):
    """Answers every POST with a 302 to ``target``."""

    target = ""

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        self.send_response(302)
        self.send_header("Location", Redirect.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.mark.parametrize("scheme", ["http", "ftp", "file"])
def test_a_redirect_is_followed_to_http_only(server: Recorder, http: Http, scheme: str) -> None:
    Redirect.target = {"http": f"{server.url}/moved", "ftp": "ftp://127.0.0.1/x", "file": "file:///etc/passwd"}[scheme]
    with http_server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect) as other:
        threading.Thread(target=other.serve_forever, args=(0.05,), daemon=True).start()
        try:
            sent = ping(f"http://127.0.0.1:{other.server_address[1]}/{TOKEN}", "fail", "x", http)
        finally:
            other.shutdown()
    assert sent.ok is (scheme == "http") and TOKEN not in sent.detail, sent
    # urllib turns a POST that is redirected with 302 into a GET without the body.
    assert [(r.method, r.path) for r in server.requests] == ([("GET", "/moved")] if scheme == "http" else [])
