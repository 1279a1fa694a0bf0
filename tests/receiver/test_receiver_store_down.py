"""The database goes away and comes back: 503 + Retry-After meanwhile, recovery without restarting the receiver."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.store import MessageStore
from tests.receiver.receiver_support import Receiver, make_auth
from tests.support.postgres import PostgresServer
from tests.support.uvicorn_server import serve_app
from tests.vendor_examples import load


@pytest.fixture(scope="module")
def own_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this module only: the test stops it (the shared one keeps running)."""
    server = PostgresServer().start()
    yield server
    server.destroy()


def delivery(reference_id: str) -> dict[str, object]:
    payload = copy.deepcopy(load("telesign_delivery_callback_rcs_sms"))
    payload["reference_id"] = reference_id
    return payload


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["status"] == "error"


def test_store_down_gives_503_then_recovers(own_postgres: PostgresServer) -> None:
    url = own_postgres.create_database("store_down")
    store = MessageStore(url)
    store.upgrade()
    try:
        with serve_app(create_app(store, make_auth())) as base, requests.Session() as session:
            receiver = Receiver(base, store, session)
            assert receiver.send("/telesign/status", delivery("BEFORE")).status_code == 200
            assert session.get(base + "/health", timeout=10).status_code == 200

            own_postgres.stop()
            assert_unavailable(receiver.send("/telesign/status", delivery("DURING")))
            assert_unavailable(receiver.send("/telesign/status", delivery("DURING"), method="GET"))
            assert_unavailable(receiver.send("/telesign/inbound", load("telesign_inbound_rcs_stop")))
            assert_unavailable(receiver.send("/aerialink/status", {"messageGUID": "g-during", "status": "FAIL"}))
            assert session.get(base + "/health", timeout=10).status_code == 503
            # bad input and bad credentials are still answered as such, not as 503
            assert receiver.send("/telesign/status", b"not json").status_code == 400
            assert session.post(base + "/telesign/status", data=b"{}", timeout=10).status_code == 401

            own_postgres.restart()
            response = receiver.send("/telesign/status", delivery("DURING"))  # the vendor's retry
            assert response.status_code == 200, response.text
            assert receiver.send("/telesign/inbound", load("telesign_inbound_rcs_stop")).status_code == 200
            assert session.get(base + "/health", timeout=10).status_code == 200

        assert [c["body"] for c in store.callbacks_for("BEFORE")] != []
        assert len(store.callbacks_for("DURING")) == 1  # the refused attempts left nothing behind
        assert store.callbacks_for("g-during") == []
        assert (store.count("callbacks"), store.count("inbound"), store.count("opt_outs")) == (3, 1, 1)
    finally:
        store.dispose()


def test_receiver_started_while_the_database_is_down(own_postgres: PostgresServer) -> None:
    """``airflow-messaging receiver`` builds its store at the first request: a database that is down at
    start-up gives 503s, not a dead receiver."""
    url = own_postgres.create_database("down_at_start")
    setup = MessageStore(url)
    setup.upgrade()
    setup.dispose()
    created: list[MessageStore] = []

    def make_store() -> MessageStore:
        store = MessageStore(url)
        try:
            store.ensure_schema(auto_upgrade=False)
        except Exception:
            store.dispose()
            raise
        created.append(store)
        return store

    own_postgres.stop()
    try:
        with serve_app(create_app(make_store, make_auth())) as base, requests.Session() as session:
            receiver = Receiver(base, MessageStore(url), session)
            assert_unavailable(receiver.send("/telesign/status", delivery("EARLY")))
            own_postgres.restart()
            assert receiver.send("/telesign/status", delivery("EARLY")).status_code == 200
            assert len(receiver.store.callbacks_for("EARLY")) == 1
            receiver.store.dispose()
    finally:
        if not own_postgres.is_running():
            own_postgres.restart()
        for store in created:
            store.dispose()
