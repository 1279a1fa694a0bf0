"""The standalone receiver's HTTP server: uvicorn with bounded headers, a header deadline and a connection cap.

Inside Airflow the API server's own HTTP server (and the reverse proxy in front of it) sets these
limits; README "Callback receiver behind a reverse proxy" lists what to add there.

* header size and count: h11 refuses a request head that grows past ``max_header_bytes`` before it
  is complete (answer 400, connection closed), so a 1 MB header never sits in memory; a head that
  arrived complete in one read (up to one socket read, 256 KiB) but is still too large, or has more
  than ``max_headers`` fields, gets 431 from :class:`HeaderLimits` before the app sees it;
* slow headers: a connection must deliver a complete request head within ``header_timeout``
  seconds of its first byte (or of connecting); otherwise it is closed. uvicorn has no such timer
  (its keep-alive timer stops at the first byte of a request), so :class:`HeaderTimeoutProtocol`
  adds it;
* connections: above ``limit_concurrency`` open connections or running requests, uvicorn answers
  503 at once; idle keep-alive connections close after ``timeout_keep_alive`` seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_HEADERS = 100
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_LIMIT_CONCURRENCY = 256
DEFAULT_KEEP_ALIVE = 5


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for the request head (slowloris)."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting_for_head = self.conn.their_state is h11.IDLE
        if waiting_for_head and self._header_deadline is None:
            self._arm()  # the next request starts: its head must be complete in time
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the head arrived (the body has the app's own limits)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # between requests uvicorn's keep-alive timer applies

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _head_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.warning("Request headers not complete within %ss: connection closed", self.header_timeout)
            self.transport.close()


class HeaderLimits:
    """ASGI middleware: 431 for a request head over ``max_bytes`` or with more than ``max_count`` fields."""

    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_HEADER_BYTES, max_count: int = DEFAULT_MAX_HEADERS):
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in headers)
            if len(headers) > self.max_count or size > self.max_bytes:
                body = b'{"status":"error","reason":"request head too large"}'
                length = (b"content-length", str(len(body)).encode())
                start_headers = [(b"content-type", b"application/json"), length, (b"connection", b"close")]
                await send({"type": "http.response.start", "status": 431, "headers": start_headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_headers: int = DEFAULT_MAX_HEADERS,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    limit_concurrency: int = DEFAULT_LIMIT_CONCURRENCY,
    timeout_keep_alive: int = DEFAULT_KEEP_ALIVE,
) -> uvicorn.Config:
    """The uvicorn configuration of ``airflow-messaging receiver``."""
    protocol = type("ReceiverProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(
        HeaderLimits(app, max_header_bytes, max_headers),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        http=protocol,
        h11_max_incomplete_event_size=max_header_bytes,
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,
    )
