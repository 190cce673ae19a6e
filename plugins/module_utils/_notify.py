# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP signals from the Docker host: a Healthchecks-compatible ping and a webhook (stdlib urllib only).

ping() POSTs a text body to ``<url>/start``, ``<url>`` (success) or ``<url>/fail``; webhook() POSTs one
JSON document. Each attempt has a short timeout; connection errors, timeouts, HTTP 429 and 5xx are retried
a bounded number of times with a growing pause, other HTTP errors are not. Nothing here raises: each send
returns a Sent, whose detail never contains the URL (ping and webhook URLs carry their secret in the path
or the query), only what happened: ``sent (HTTP 200)``, ``failed after 3 attempts: HTTP 503 Service
Unavailable``.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import json
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request

PingKind = t.Literal["start", "success", "fail"]
# The path suffix Healthchecks expects for each kind of ping.
PING_SUFFIX: dict[PingKind, str] = {"start": "/start", "success": "", "fail": "/fail"}
# Healthchecks keeps the first 100 kB of a body; a run report stays far below this.
BODY_LIMIT = 10_000
USER_AGENT = "bosun.compose"


@dataclasses.dataclass(frozen=True)
class Http:
    """How hard to try: seconds per attempt, attempts in all, and the pause before the second (doubled after)."""

    timeout: float = 5.0
    attempts: int = 3
    backoff: float = 1.0
    sleep: t.Callable[[float], None] = time.sleep


@dataclasses.dataclass(frozen=True)
class Sent:
    """What became of one signal: ``signal`` names it (``ping start``, ``webhook``, ``metrics``...)."""

    signal: str
    ok: bool
    detail: str
    attempts: int = 0

    @property
    def warning(self) -> str | None:
        """The warning for a result when this signal failed, else None."""
        return None if self.ok else f"{self.signal} {self.detail}"

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def ping_url(url: str, kind: PingKind) -> str:
    """``url`` with the kind's path suffix added to its path (before any query string)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/") + PING_SUFFIX[kind] if PING_SUFFIX[kind] else parts.path
    return urllib.parse.urlunsplit(parts._replace(path=path))


def ping(url: str, kind: PingKind, body: str, http: Http | None = None) -> Sent:
    """A Healthchecks-compatible ping of ``kind`` with ``body`` (text, cut at BODY_LIMIT) as the POST body."""
    data = body.encode("utf-8")[:BODY_LIMIT]
    return _send(f"ping {kind}", url, ping_url(url, kind), data, "text/plain; charset=utf-8", http or Http())


def webhook(url: str, document: t.Mapping[str, t.Any], http: Http | None = None) -> Sent:
    """One JSON POST of ``document``."""
    data = json.dumps(dict(document), sort_keys=True, default=str).encode("utf-8")
    return _send("webhook", url, url, data, "application/json", http)


def _send(name: str, secret: str, url: str, data: bytes, content_type: str, http: Http | None) -> Sent:
    """POST ``data`` to ``url`` with retries; ``secret`` (the configured URL) is kept out of every detail."""
    http = http or Http()
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return Sent(name, False, "not sent: the URL is not an http or https URL", 0)
    pause = http.backoff
    reason = ""
    attempts = max(1, http.attempts)
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": content_type, "User-Agent": USER_AGENT}
        )
        retry = True
        try:
            with _opener().open(request, timeout=http.timeout) as response:
                response.read()
                return Sent(name, True, f"sent (HTTP {response.status})", attempt)
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {exc.reason}".strip()
            retry = exc.code == 429 or exc.code >= 500
        except urllib.error.URLError as exc:
            reason = _redact(str(exc.reason), secret, url)
        except (OSError, ValueError) as exc:  # a timeout while reading, a malformed URL
            reason = _redact(f"{type(exc).__name__}: {exc}", secret, url)
        if not retry:
            return Sent(name, False, f"failed: {reason}", attempt)
        if attempt < attempts:
            http.sleep(pause)
            pause *= 2
    return Sent(name, False, f"failed after {attempts} attempts: {reason}", attempts)


def _opener() -> urllib.request.OpenerDirector:
    """An opener for http and https only (proxies from the environment, redirects followed): no file: or ftp:."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _redact(text: str, *urls: str) -> str:
    """``text`` with each URL, and its path, query and credentials, replaced by ``<url>``."""
    secrets: set[str] = set()
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        secrets.update(s for s in (url, parts.path, parts.query, parts.password, parts.username) if s and len(s) > 1)
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, "<url>")
    return text or "no reason given"
