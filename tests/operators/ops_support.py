"""Helpers of the operator and notifier tests: a scripted vendor stand-in, the failure log, the store.

DAG loading and run inspection are in ``tests.support.dag_runner``.

``VendorStub`` is one real local HTTP server (``tests.support.http_server.LocalHttpServer``) that answers both
vendors' send APIs. Each Airflow connection it hands out points at its own path prefix
(``http://127.0.0.1:PORT/<conn_id>``), so several tasks of one DAG run can be told apart by where
their requests arrived, while the bodies stay exactly the vendor examples.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from airflow_provider_messaging import config
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.store.schema import messages
from tests.support.http_server import LocalHttpServer, Recorded, Reply

TELESIGN_PATH = "/v1/omnichannel"
AERIALINK_PATH = "/v5/messages"
CUSTOMER_ID = "12345678-9ABC-DEF0-1234-56789ABCDEF0"
API_KEY = "dGVzdC1hcGkta2V5LXRoYXQtbXVzdC1uZXZlci1sZWFr"
AERIALINK_USER = "acme-api"
AERIALINK_SECRET = "s3cr3t-aerialink-password"
TELESIGN_AUTH = "Basic " + base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()
AERIALINK_AUTH = "Basic " + base64.b64encode(f"{AERIALINK_USER}:{AERIALINK_SECRET}".encode()).decode()

TELESIGN_INVALID_PHONE = {
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "status": {"code": 3101, "description": "Invalid phone_number"},
    "errors": [{"code": 3101, "description": "Invalid phone_number"}],
}
AERIALINK_INVALID_DESTINATION = {
    "status": "error",
    "message": "Missing or invalid parameters in body",
    "data": [{"field": "destination", "description": "Destination", "message": "'destination' is invalid"}],
}


def telesign_accepted(reference_id: str | None = None) -> dict[str, Any]:
    return {
        "status": {"code": 3001, "description": "Message in progress"},
        "reference_id": reference_id or uuid.uuid4().hex.upper(),
        "external_id": None,
    }


def aerialink_accepted(destination: str, guid: str | None = None) -> dict[str, Any]:
    return {
        "status": "success",
        "message": "Message successfully queued",
        "data": {
            "results": [{"messageGUID": guid or str(uuid.uuid4()), "destination": destination, "status": "success"}]
        },
    }


def recipient_of(request: Recorded) -> str:
    body = request.json()
    return str(body.get("phone_number") or body.get("destination"))


class VendorStub:
    """Both vendors' send APIs on one real local server; every send gets a fresh message id.

    ``reject(number, times=n)`` makes the next ``n`` sends to ``number`` answer HTTP 400 (the vendor's
    invalid-number error); ``script(conn_id, Reply(...), ...)`` scripts the next answers on one connection.
    """

    def __init__(self, server: LocalHttpServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server = server
        self.monkeypatch = monkeypatch
        self._rejections: Counter[str] = Counter()
        self._transient: set[str] = set()
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        server.default = self._answer

    def reject(self, number: str, *, times: int = 1_000_000, transient: bool = False) -> None:
        """Refuse sends to ``number``: 400 (permanent), or with ``transient`` 503 "resubmit" (Telesign 3500)."""
        with self._lock:
            self._rejections[number] = times
            if transient:
                self._transient.add(number)

    def script(self, conn_id: str, *replies: Reply) -> None:
        """The next answers to sends on connection ``conn_id`` (before the default ones)."""
        with self._lock:
            self._scripts.setdefault(conn_id, deque()).extend(replies)

    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            queue = self._scripts.get(request.path.split("/")[1])
            if queue:
                return queue.popleft()
        recipient = recipient_of(request)
        with self._lock:
            rejected = self._rejections[recipient] > 0
            if rejected:
                self._rejections[recipient] -= 1
        if rejected and recipient in self._transient:
            return Reply(503, {"status": {"code": 3500, "description": "System unavailable, please resubmit"}})
        if request.path.endswith(TELESIGN_PATH):
            return Reply(400, TELESIGN_INVALID_PHONE) if rejected else Reply(200, telesign_accepted())
        if request.path.endswith(AERIALINK_PATH):
            if rejected:
                return Reply(400, AERIALINK_INVALID_DESTINATION)
            return Reply(200, aerialink_accepted(recipient))
        return Reply(404, {"message": "no such route"})

    def connect(self, conn_id: str, vendor: str = "telesign", **extra: Any) -> str:
        """Create connection ``conn_id`` (``AIRFLOW_CONN_*``) pointing at ``/<conn_id>`` on this server."""
        if vendor == "telesign":
            login, password = CUSTOMER_ID, API_KEY
            extras: dict[str, Any] = {"timeout": 5, "max_retries": 2}
        else:
            login, password = AERIALINK_USER, AERIALINK_SECRET
            extras = {"timeout": 5, "max_retries": 2, "default_source": "CONVEY"}
        extras.update(extra)
        conn = {
            "conn_type": vendor,
            "host": f"{self.server.url}/{conn_id}",
            "login": login,
            "password": password,
            "extra": extras,
        }
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    def sends(self, conn_id: str | None = None) -> list[Recorded]:
        """Send requests received (for one connection, or all)."""
        return [
            r
            for r in self.server.requests
            if r.path.endswith((TELESIGN_PATH, AERIALINK_PATH))
            and (conn_id is None or r.path.startswith(f"/{conn_id}/"))
        ]

    def per_recipient(self, conn_id: str | None = None) -> Counter[str]:
        return Counter(recipient_of(r) for r in self.sends(conn_id))


class FailureLog:
    """What the test DAGs' ``on_failure_callback`` wrote (JSON lines: task, try, exception type and text)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self, task_id: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        rows = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        return [r for r in rows if task_id is None or r["task_id"] == task_id]


# ---- the store the operators use ----------------------------------------------------------------


def use_store(store: MessageStore, monkeypatch: pytest.MonkeyPatch) -> MessageStore:
    """Point ``config.get_store()`` (what operators and notifiers use) at ``store``."""
    monkeypatch.setenv("AIRFLOW__MESSAGING__STORE_URL", store.url)
    config.reset_stores()
    return store


def rows(store: MessageStore, **where: Any) -> list[dict[str, Any]]:
    """Rows of the messages table (idempotency records), filtered by column values."""
    query = select(messages).order_by(messages.c.id)
    for column, value in where.items():
        query = query.where(messages.c[column] == value)
    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(query).all()]


@dataclass
class Env:
    """Everything a DAG-run test needs: the vendor stand-in, the store, the failure log."""

    vendor: VendorStub
    store: MessageStore
    failures: FailureLog


def make_env(
    server: LocalHttpServer, store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Env]:
    use_store(store, monkeypatch)
    failures = tmp_path / "failures.jsonl"
    monkeypatch.setenv("OPS_FAILURE_LOG", str(failures))
    try:
        yield Env(VendorStub(server, monkeypatch), store, FailureLog(failures))
    finally:
        config.reset_stores()
