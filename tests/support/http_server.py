"""A real local HTTP/1.1 keep-alive server for tests: records every request, answers from a script.

Usage::

    with LocalHttpServer() as server:
        server.enqueue(Reply(429, {"status": {"code": 3204}}, headers={"Retry-After": "1"}), Reply(200, {...}))
        ...  # point a client at server.url
        assert [r.method for r in server.requests] == ["POST", "POST"]

Replies are taken from the queue in order; when it is empty, ``server.default`` answers (a
:class:`Reply` or a function of the :class:`Recorded` request). A reply can wait before answering
(``delay``) or close the socket without answering (``drop``). Each :class:`Recorded` request keeps the
status it was answered with; :meth:`LocalHttpServer.wait_for_requests` waits for the next ones.
"""

from __future__ import annotations

import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One scripted answer. ``body``: bytes, text, or anything JSON-serialisable."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # read the request, then close the connection without answering

    def encoded(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    connection: int  # id of the TCP connection it came on (1, 2, ...)
    received_at: float  # time.monotonic()
    status: int = 0  # the status the server answered (0: dropped without an answer)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def route(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


Responder = Reply | Callable[[Recorded], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection_id = self.server.owner._new_connection()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Recorded(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            connection=self.connection_id,
            received_at=time.monotonic(),
        )
        reply = self.server.owner._record(request)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload, content_type = reply.encoded()
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers, "Content-Length": str(len(payload))}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: LocalHttpServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up before the answer (a read-timeout or dropped-connection test) is expected.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class LocalHttpServer:
    """Threaded HTTP/1.1 server on ``127.0.0.1`` and a free port, scripted by :meth:`enqueue`."""

    def __init__(self, default: Responder | None = None, *, host: str = "127.0.0.1") -> None:
        self.default: Responder = default or Reply(200, {})
        self._host = host
        self._lock = threading.Condition()
        self._queue: deque[Reply] = deque()
        self._requests: list[Recorded] = []
        self._connection_ids = itertools.count(1)
        self._last_connection = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalHttpServer:
        self._httpd = _Server((self._host, 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> LocalHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # ---- script and record -----------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def wait_for_requests(self, n: int, *, route: str | None = None, timeout: float = 5.0) -> list[Recorded]:
        """Block until ``n`` requests (to ``route``, the path without query, if given) have arrived; return them
        all. Raises ``TimeoutError`` saying how many came."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [r for r in self._requests if route is None or r.route == route]
                if len(found) >= n:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {n} requests to {route or 'any path'} arrived in {timeout}s")
                self._lock.wait(remaining)

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._last_connection

    def _new_connection(self) -> int:
        with self._lock:
            self._last_connection = next(self._connection_ids)
            return self._last_connection

    def _record(self, request: Recorded) -> Reply:
        with self._lock:
            index = len(self._requests)
            self._requests.append(request)
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            default = self.default
            reply = default if isinstance(default, Reply) else default(request)
        with self._lock:  # the answer's status, then wake whoever waits for requests
            self._requests[index] = replace(request, status=0 if reply.drop else reply.status)
            self._lock.notify_all()
        return reply
