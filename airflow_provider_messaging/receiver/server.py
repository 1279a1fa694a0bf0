"""The standalone receiver's HTTP server: uvicorn with bounded headers, a header deadline and a connection cap.

Inside Airflow the API server's own HTTP server (and the reverse proxy in front of it) sets these
limits; README "Callback receiver behind a reverse proxy" lists what to add there.

* header size (and so header count): h11 refuses a request whose request line and headers exceed
  ``max_header_bytes`` (answer 400, connection closed), so a 1 MB header or 5,000 headers never
  reach the app and never sit in memory;
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


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    limit_concurrency: int = DEFAULT_LIMIT_CONCURRENCY,
    timeout_keep_alive: int = DEFAULT_KEEP_ALIVE,
) -> uvicorn.Config:
    """The uvicorn configuration of ``airflow-messaging receiver``."""
    protocol = type("ReceiverProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        http=protocol,
        h11_max_incomplete_event_size=max_header_bytes,
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,
    )
