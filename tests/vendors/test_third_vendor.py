"""A third vendor plugs in without editing the package: the test-only ``acme`` (tests/vendors/acme).

It is registered at run time (``register_vendor``) or found through the entry-point group, and then
goes through every layer: operator -> hook -> a fake Acme API (real HTTP) -> callbacks to the real
receiver -> the store -> the delivery sensor, in real DAG runs on SQLite and PostgreSQL. The receiver's
routes, the Messages view's vendor list and the CLI's ``--vendor`` come from the registry.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from airflow_provider_messaging import config, vendors
from airflow_provider_messaging.cli import main as cli_main
from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.store import MessageStore
from tests.support.dag_runner import Run
from tests.support.http_server import LocalHttpServer, Recorded, Reply
from tests.support.uvicorn_server import serve_app
from tests.vendors.acme import ACME

DAGS = Path(__file__).resolve().parent.parent / "dags" / "acme_vendor.py"
PACKAGE = Path(vendors.__file__).resolve().parent.parent


async def _anyone(request: Any, write: bool) -> str:
    return "tester"


def _client(store: MessageStore, token: str = "t0ken", secret_vendors: tuple[str, ...] = ("aerialink", "acme")) -> Any:
    auth = CallbackAuth(token=token, secret_vendors=secret_vendors)
    return TestClient(create_app(store=store, auth=auth, authenticate=_anyone))


def test_nothing_in_the_package_names_the_third_vendor() -> None:
    hits = [p for p in PACKAGE.rglob("*") if p.is_file() and b"acme" in p.read_bytes().lower()]
    # the sandbox's example Aerialink user is "acme-api"; no module of the registry path knows the vendor
    assert not [p for p in hits if "sandbox" not in p.parts], hits


def test_registry_lists_builtin_vendors_and_refuses_duplicates(acme: vendors.VendorSpec) -> None:
    assert vendors.vendor_names() == ("telesign", "aerialink", "acme")
    with pytest.raises(ValueError, match="already registered"):
        vendors.register_vendor(ACME)
    with pytest.raises(ValueError, match="built-in"):
        vendors.unregister_vendor("telesign")
    with pytest.raises(KeyError, match="known vendors: telesign, aerialink, acme"):
        vendors.get_vendor("nope")
    for spec in vendors.vendors():  # every path a vendor declares resolves
        assert spec.load_adapter().vendor == spec.name
        assert vendors.import_path(spec.hook).conn_type == spec.connection_type
        assert all(vendors.import_path(path).vendor == spec.name for path in spec.operators)


def test_code_tables_live_with_each_vendor_and_old_names_still_resolve() -> None:
    from airflow_provider_messaging.models import aerialink, status, telesign
    from airflow_provider_messaging.receiver import parsing
    from airflow_provider_messaging.receiver.vendors import aerialink as aerialink_callbacks

    assert status.telesign_state is telesign.telesign_state and telesign.telesign_state(3056).value == "EXPIRED"
    assert status.aerialink_state is aerialink.aerialink_state and status.AERIALINK_STATES is aerialink.AERIALINK_STATES
    assert parsing.aerialink_delivery is aerialink_callbacks.aerialink_delivery
    with pytest.raises(AttributeError):
        _ = status.acme_state


def test_an_adapter_for_another_vendor_is_refused() -> None:
    wrong = vendors.VendorSpec(name="acme2", title="Acme 2", adapter=ACME.adapter)
    with pytest.raises(ValueError, match="for vendor 'acme', not 'acme2'"):
        wrong.load_adapter()


def test_receiver_serves_the_routes_its_adapter_declares(acme: vendors.VendorSpec, sqlite_store: MessageStore) -> None:
    client = _client(sqlite_store)
    body = {"id": "acme-1", "status": "delivered", "at": "2026-01-01T10:00:00Z"}
    answer = client.post("/acme/status?token=t0ken", json=body)
    assert answer.status_code == 200 and answer.json()["message_id"] == "acme-1"
    assert answer.json()["known_message"] is False  # never sent from here: kept raw
    (stored,) = sqlite_store.callbacks_for("acme-1")
    assert stored["vendor"] == "acme" and json.loads(stored["body"]) == body
    assert client.get("/acme/status?token=t0ken").status_code == 405  # POST only, as declared
    assert client.post("/acme/status?token=wrong", json=body).status_code == 401
    assert client.post("/acme/status?token=t0ken", json={"status": "delivered"}).status_code == 400
    assert len(sqlite_store.callbacks_for("acme-1")) == 1  # the refused ones wrote nothing
    # the built-in vendors keep their routes and methods
    assert client.get("/telesign/status").status_code == 401
    assert client.get("/aerialink/status").status_code == 405


def test_cli_status_replays_the_vendors_callbacks_through_its_adapter(
    acme: vendors.VendorSpec, sqlite_store: MessageStore, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client(sqlite_store)
    for status in ("delivered", "sent"):  # out of order: the monotonic rule keeps DELIVERED
        assert client.post("/acme/status?token=t0ken", json={"id": "acme-9", "status": status}).status_code == 200
    capsys.readouterr()
    assert cli_main(["--store-url", sqlite_store.url, "status", "acme-9", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["vendor"] == "acme" and found["state"] == "DELIVERED" and found["complete"] is True


def test_shared_secret_opens_the_third_vendor_only_when_listed(
    acme: vendors.VendorSpec, sqlite_store: MessageStore
) -> None:
    client = _client(sqlite_store, secret_vendors=("aerialink",))
    answer = client.post("/acme/status?token=t0ken", json={"id": "acme-2", "status": "sent"})
    assert answer.status_code == 401
    assert sqlite_store.callbacks_for("acme-2") == []


def test_inbound_stop_opts_the_recipient_out(acme: vendors.VendorSpec, sqlite_store: MessageStore) -> None:
    client = _client(sqlite_store)
    answer = client.post("/acme/inbound?token=t0ken", json={"id": "in-1", "from": "15558675301", "text": "STOP"})
    assert answer.status_code == 200 and answer.json()["action"] == "stop"
    assert sqlite_store.is_opted_out("acme", "15558675301")
    assert not sqlite_store.is_opted_out("aerialink", "15558675301")


def test_messages_view_and_cli_list_the_registered_vendor(
    acme: vendors.VendorSpec, sqlite_store: MessageStore, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client(sqlite_store)
    page = client.get("/ui/")
    assert "<option>telesign</option><option>aerialink</option><option>acme</option>" in page.text
    assert client.get("/ui/api/optouts?vendor=acme").status_code == 200
    assert client.get("/ui/api/optouts?vendor=nope").status_code == 400
    assert cli_main(["--store-url", sqlite_store.url, "optouts", "add", "15551230000", "--vendor", "acme"]) == 0
    assert sqlite_store.is_opted_out("acme", "15551230000")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli_main(["--store-url", sqlite_store.url, "optouts", "add", "15551230000", "--vendor", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_vendor_found_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What a separately installed package does: name its VendorSpec under the entry-point group."""
    dist = tmp_path / "acme_messaging-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-messaging\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{vendors.ENTRY_POINT_GROUP}]\n"
        "acme = tests.vendors.acme:ACME\n"
        "broken = vendors.no_such_module:SPEC\n"  # logged and skipped: the others still load
        "again = tests.vendors.acme:ACME\n"  # a name already taken is refused
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.ERROR, logger="airflow_provider_messaging.vendors"):
        vendors.reload_vendors()
    try:
        assert vendors.vendor_names() == ("telesign", "aerialink", "acme")
        assert vendors.get_vendor("acme") is ACME
        assert "vendor entry point broken could not be loaded" in caplog.text
        assert "vendor entry point again: vendor 'acme' is already registered" in caplog.text
        app_paths = {route.path for route in create_app(store=lambda: None).routes}  # type: ignore[arg-type]
        assert {"/acme/status", "/acme/inbound"} <= app_paths
    finally:
        monkeypatch.undo()
        vendors.reload_vendors()
    assert "acme" not in vendors.vendor_names()


# ---- the whole path in real DAG runs -----------------------------------------------------------------


class FakeAcme:
    """Acme's API on a real local HTTP server: answers each send with an id, then reports its delivery.

    The reports go to the ``callback_url`` of the request (filled in by the hook from the connection),
    once the send is recorded: ``sent``, then ``delivered`` (or ``undeliverable`` for ``fail_numbers``).
    """

    def __init__(self, store: MessageStore, fail_numbers: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.fail_numbers = fail_numbers
        self.ids = itertools.count(1)
        self.callbacks: list[tuple[str, int]] = []
        self.threads: list[threading.Thread] = []
        self.server = LocalHttpServer(self._answer)

    def _answer(self, request: Recorded) -> Reply:
        if request.path != "/v1/sms" or request.method != "POST":
            return Reply(404, {"error": "not found"})
        body = request.json()
        message_id = f"acme-{next(self.ids)}"
        final = "undeliverable" if body["to"] in self.fail_numbers else "delivered"
        thread = threading.Thread(target=self._report, args=(message_id, body["callback_url"], final), daemon=True)
        thread.start()
        self.threads.append(thread)
        return Reply(200, {"id": message_id})

    def _report(self, message_id: str, url: str, final: str) -> None:
        deadline = time.monotonic() + 20
        while self.store.get_status(message_id, "acme") is None and time.monotonic() < deadline:
            time.sleep(0.05)  # wait on a condition: the send ledger recorded the message
        for status in ("sent", final):
            answer = requests.post(url, json={"id": message_id, "status": status}, timeout=10)
            self.callbacks.append((status, answer.status_code))


@pytest.fixture
def acme_stack(
    acme: vendors.VendorSpec, store: MessageStore, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeAcme]:
    token = secrets.token_urlsafe(12)
    fake = FakeAcme(store, fail_numbers=frozenset({"15558675303"}))
    app = create_app(store=store, auth=CallbackAuth(token=token, secret_vendors=("aerialink", "acme")))
    with serve_app(app) as receiver, fake.server:
        connection = {
            "conn_type": "acme",
            "host": fake.server.url,
            "login": "acme-user",
            "password": "acme-secret",
            "extra": {"callback_url": f"{receiver}/acme/status?token={token}", "max_retries": 0},
        }
        monkeypatch.setenv("AIRFLOW_CONN_ACME_DEFAULT", json.dumps(connection))
        monkeypatch.setenv("AIRFLOW__MESSAGING__STORE_URL", store.url)
        config.reset_stores()
        try:
            yield fake
            for thread in fake.threads:
                thread.join(timeout=20)
        finally:
            config.reset_stores()


def _dags() -> Any:
    spec = importlib.util.spec_from_file_location("test_dags_acme", DAGS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode", ["deferrable", "poke"])
def test_send_through_acme_and_wait_for_delivery(acme_stack: FakeAcme, mode: str) -> None:
    run = Run(getattr(_dags(), f"acme_wait_{mode}"), {"phone_number": "15558675301"})
    assert run.state == "success", run.task_states()
    sent = run.xcom("send")
    result = run.xcom("wait")
    assert result["vendor"] == "acme" and result["message_id"] == sent["message_id"]
    assert result["state"] == "DELIVERED" and result["delivered_channel"] == "sms"
    (request,) = acme_stack.server.requests
    assert request.headers["authorization"].startswith("Basic ")
    assert request.json()["to"] == "15558675301" and request.json()["text"] == "Your order shipped"
    assert [code for _, code in acme_stack.callbacks] == [200, 200]


def test_undeliverable_fails_the_sensor_and_stop_blocks_the_next_send(acme_stack: FakeAcme) -> None:
    run = Run(_dags().acme_wait_poke, {"phone_number": "15558675303"})
    assert run.state == "failed"
    assert run.task_states() == {"send": "success", "wait": "failed"}
    status = acme_stack.store.get_status(run.xcom("send")["message_id"], "acme")
    assert status is not None and status.complete and status.state.value == "FAILED"
    assert [a.code for a in status.attempts] == ["undeliverable"]

    acme_stack.store.add_opt_out("acme", "15558675301", source="keyword")
    sends = len(acme_stack.server.requests)
    run = Run(_dags().acme_send, {"phone_number": "15558675301"})
    assert run.task_states() == {"send": "skipped"}  # the ledger's opt-out check, as for every vendor
    assert len(acme_stack.server.requests) == sends  # the opt-out was honoured before any HTTP call
