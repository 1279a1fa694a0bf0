"""A tiny real HTTP listener that records the callbacks the sandbox sends."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from airflow_provider_messaging.sandbox import SandboxConfig, SandboxServer


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes
    status: int  # what the listener answered

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class CallbackReceiver:
    """Answers 200 unless told to fail the next N requests; ``close()`` frees the port."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures: list[int] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    status = receiver._failures.pop(0) if receiver._failures else 200
                    parts = urlsplit(self.path)
                    receiver.received.append(
                        Received(self.command, parts.path, parse_qs(parts.query), dict(self.headers), raw, status)
                    )
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = _handle
            do_GET = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="test-receiver", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, *statuses: int) -> None:
        with self._cond:
            self._failures.extend(statuses)

    def wait(self, n: int, timeout: float = 5.0, path: str | None = None) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self.received if path is None or r.path == path]
                if len(found) >= n:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {n} callbacks on {path} received")
                self._cond.wait(remaining)

    def for_message(self, key: str, value: str) -> list[Received]:
        with self._cond:
            return [r for r in self.received if r.status == 200 and r.json.get(key) == value]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def make_config(receiver: CallbackReceiver, **overrides: Any) -> SandboxConfig:
    settings: dict[str, Any] = {
        "time_scale": 0.0001,  # fallback_time 600 s -> 60 ms
        "base_delay_s": 0.05,
        "telesign_status_url": f"{receiver.url}/telesign/status",
        "telesign_inbound_url": f"{receiver.url}/telesign/inbound",
        "aerialink_status_url": f"{receiver.url}/aerialink/status?token=s3cret",
        "aerialink_inbound_url": f"{receiver.url}/aerialink/inbound?token=s3cret",
    }
    settings.update(overrides)
    return SandboxConfig(**settings)


class Clients:
    """Authenticated calls to both vendor APIs of a sandbox."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.session = requests.Session()
        config = server.config
        self.telesign_auth = (config.telesign_customer_id, config.telesign_api_key)
        self.aerialink_auth = (config.aerialink_username, config.aerialink_password)

    def telesign(self, body: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("auth", self.telesign_auth)
        if isinstance(body, (bytes, str)):
            return self.session.post(f"{self.server.url}/v1/omnichannel", data=body, timeout=5, **kwargs)
        return self.session.post(f"{self.server.url}/v1/omnichannel", json=body, timeout=5, **kwargs)

    def aerialink(self, body: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("auth", self.aerialink_auth)
        if isinstance(body, (bytes, str)):
            return self.session.post(f"{self.server.url}/v5/messages", data=body, timeout=5, **kwargs)
        return self.session.post(f"{self.server.url}/v5/messages", json=body, timeout=5, **kwargs)
