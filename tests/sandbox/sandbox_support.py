"""Sandbox test helpers: its configuration pointed at a recording callback listener (``LocalHttpServer``),
authenticated API clients."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_messaging.sandbox import SandboxConfig, SandboxServer
from tests.support.http_server import LocalHttpServer, Recorded
from tests.support.waiting import wait_for


def answered(receiver: LocalHttpServer, key: str, value: str) -> list[Recorded]:
    """The callbacks ``receiver`` answered 200 whose JSON body has ``key == value`` (one message's callbacks)."""
    return [r for r in receiver.requests if r.status == 200 and r.json().get(key) == value]


def callbacks_for(receiver: LocalHttpServer, key: str, value: str, n: int) -> list[dict[str, Any]]:
    """Wait for exactly ``n`` answered callbacks of one message (``key == value``); their JSON bodies."""
    found = wait_for(
        lambda: found if len(found := answered(receiver, key, value)) >= n else None,
        5,
        f"{n} callbacks with {key}={value}",
        interval=0.01,
    )
    assert len(found) == n, [r.json() for r in found]
    return [r.json() for r in found]


def make_config(receiver: LocalHttpServer, **overrides: Any) -> SandboxConfig:
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
