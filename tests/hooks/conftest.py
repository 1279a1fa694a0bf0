"""Fixtures of the hook tests: a real local HTTP server and Airflow connections pointing at it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest

from tests.support.http_server import LocalHttpServer, Reply

CUSTOMER_ID = "12345678-9ABC-DEF0-1234-56789ABCDEF0"
API_KEY = "dGVzdC1hcGkta2V5LXRoYXQtbXVzdC1uZXZlci1sZWFr"  # base64, like a real Telesign key
AERIALINK_USER = "acme-api"
AERIALINK_SECRET = "s3cr3t-aerialink-password"

TELESIGN_ACCEPTED = {
    "status": {"code": 3001, "description": "Message in progress"},
    "reference_id": "35C8B5D509BC10689196FED2AD551B8A",
    "external_id": None,
}
AERIALINK_ACCEPTED = {
    "status": "success",
    "message": "Message successfully queued",
    "data": {
        "results": [
            {"messageGUID": "550e8400-e29b-41d4-a716-446655440000", "destination": "15559876543", "status": "success"}
        ]
    },
}

ConnFactory = Callable[..., str]


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as s:
        yield s


@pytest.fixture
def make_conn(monkeypatch: pytest.MonkeyPatch) -> ConnFactory:
    """Create an Airflow connection through ``AIRFLOW_CONN_<ID>`` (JSON form); return its id."""

    def make(conn_type: str, host: str | None, login: str, password: str, **fields: Any) -> str:
        conn_id = f"{conn_type}_{uuid.uuid4().hex[:8]}"
        extra = fields.pop("extra", {})
        conn = {"conn_type": conn_type, "host": host, "login": login, "password": password, "extra": extra, **fields}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return make


@pytest.fixture
def telesign_conn(server: LocalHttpServer, make_conn: ConnFactory) -> str:
    server.default = Reply(200, TELESIGN_ACCEPTED)
    return make_conn("telesign", server.url, CUSTOMER_ID, API_KEY, extra={"timeout": 2, "max_retries": 2})


@pytest.fixture
def aerialink_conn(server: LocalHttpServer, make_conn: ConnFactory) -> str:
    server.default = Reply(200, AERIALINK_ACCEPTED)
    return make_conn(
        "aerialink",
        server.url,
        AERIALINK_USER,
        AERIALINK_SECRET,
        extra={"timeout": 2, "max_retries": 2, "default_source": "CONVEY"},
    )


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that connects a socket: the scripted hook tests stay in-process."""

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError("a scripted hook test connected a socket")

    monkeypatch.setattr("socket.socket.connect", refuse)
    monkeypatch.setattr("socket.socket.connect_ex", refuse)


# Retries in tests: real waits, kept short.
FAST = {"backoff_factor": 0.01, "backoff_jitter": 0.01}
