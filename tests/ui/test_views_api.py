"""JSON endpoints of the Messages view, on SQLite and PostgreSQL: Airflow's JWT or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
import requests
from fastapi.testclient import TestClient

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.store import MessageStore, NewInbound
from tests.support.store_helpers import complete_send, fail_send, record_delivery

API = "/ui/api"
ENDPOINTS = [f"{API}/messages", f"{API}/messages/ts-1", f"{API}/inbound", f"{API}/optouts", f"{API}/me"]
XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture(scope="module")
def tokens(airflow_db: Path) -> dict[str, str]:
    """Tokens issued by Airflow's own auth manager (SimpleAuthManager) in this process."""
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    manager = init_auth_manager()
    return {
        role: manager.generate_jwt(SimpleAuthManagerUser(username=f"{role}-user", role=role))
        for role in ("admin", "op", "viewer")
    }


def _fill(store: MessageStore) -> None:
    now = datetime.now(timezone.utc)
    for key, mid, recipient, dag in (("k1", "ts-1", "15550000001", "dag_a"), ("k2", "ts-2", "15550000003", "dag_b")):
        store.reserve_send(
            idempotency_key=key,
            vendor="telesign",
            recipient=recipient,
            channels=["rcs", "sms"],
            dag_id=dag,
            task_id="t",
        )
        complete_send(store, key, mid)
    record_delivery(
        store,
        vendor="telesign",
        message_id="ts-1",
        events=[ChannelEvent("rcs", DeliveryState.DELIVERED, "200", "Delivered", None, now)],
        raw_body='{"reference_id": "ts-1", "status": {"code": 200}}',
    )
    record_delivery(
        store,
        vendor="telesign",
        message_id="ts-2",
        events=[
            ChannelEvent("rcs", DeliveryState.EXPIRED, "3056", "Fallback", None, now),
            ChannelEvent("sms", DeliveryState.FAILED, "210", "Failed", None, now),
        ],
        raw_body='{"reference_id": "ts-2"}',
    )
    store.record_inbound(
        vendor="telesign",
        raw_body='{"mo": "STOP"}',
        inbound=NewInbound(channel="sms", sender="15550000001", text="STOP", action="stop", keyword="STOP"),
    )


@pytest.fixture
def client(store: MessageStore) -> Iterator[TestClient]:
    _fill(store)
    app = create_app(store=store, auth=CallbackAuth(token="callback-secret"))
    with TestClient(app) as c:
        yield c


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_gets_401_and_no_data(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    assert "1555" not in response.text and 'ts-1"' not in response.text


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"sub": "admin", "role": "admin", "exp": 9999999999}, "a-key-that-is-not-airflows-" * 3, "HS512"),
    ],
    ids=["garbage", "forged"],
)
def test_bad_tokens_get_403_and_no_data(client: TestClient, token: str, tokens: dict[str, str]) -> None:
    for response in (
        client.get(f"{API}/messages", headers=_bearer(token)),
        client.get(f"{API}/messages", cookies={"_token": token}),
    ):
        assert response.status_code == 403, response.text
        assert "messages" not in response.json()


def test_expired_token_gets_401(client: TestClient, tokens: dict[str, str]) -> None:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    expired = get_auth_manager().generate_jwt(
        SimpleAuthManagerUser(username="admin", role="admin"), expiration_time_in_seconds=-120
    )
    assert client.get(f"{API}/messages", headers=_bearer(expired)).status_code == 401


def test_messages_filters_detail_inbound_with_bearer_and_cookie(client: TestClient, tokens: dict[str, str]) -> None:
    auth = _bearer(tokens["viewer"])
    listed = client.get(f"{API}/messages", headers=auth).json()["messages"]
    assert {m["message_id"] for m in listed} == {"ts-1", "ts-2"}
    # the browser's way: Airflow's login cookie
    assert client.get(f"{API}/messages", cookies={"_token": tokens["viewer"]}).status_code == 200

    def ids(**params: Any) -> set[str]:
        response = client.get(f"{API}/messages", headers=auth, params=params)
        assert response.status_code == 200, response.text
        return {m["message_id"] for m in response.json()["messages"]}

    assert ids(state="DELIVERED") == {"ts-1"}
    assert ids(state="FAILED") == {"ts-2"}
    assert ids(dag_id="dag_b") == {"ts-2"}
    assert ids(vendor="aerialink") == set()
    today = datetime.now(timezone.utc).date()
    assert ids(since=today.isoformat(), until=today.isoformat()) == {"ts-1", "ts-2"}
    assert ids(until=(today - timedelta(days=1)).isoformat()) == set()
    assert client.get(f"{API}/messages", headers=auth, params={"state": "NOPE"}).status_code == 400
    assert client.get(f"{API}/messages", headers=auth, params={"since": "yesterday"}).status_code == 400

    detail = client.get(f"{API}/messages/ts-2", headers=auth, params={"vendor": "telesign"}).json()
    assert [a["channel"] for a in detail["message"]["attempts"]] == ["rcs", "sms"]
    assert [a["state"] for a in detail["message"]["attempts"]] == ["EXPIRED", "FAILED"]
    assert [c["body"] for c in detail["callbacks"]] == ['{"reference_id": "ts-2"}']
    assert client.get(f"{API}/messages/ts-404", headers=auth).status_code == 404
    replies = client.get(f"{API}/messages/ts-1", headers=auth).json()["inbound"]
    assert [r["text"] for r in replies] == ["STOP"]

    inbound = client.get(f"{API}/inbound", headers=auth).json()["inbound"]
    assert [(i["sender"], i["action"]) for i in inbound] == [("15550000001", "stop")]


def test_opt_out_removal_needs_write_rights_and_the_xhr_header(
    client: TestClient, store: MessageStore, tokens: dict[str, str]
) -> None:
    path = f"{API}/optouts/telesign/15550000001"
    assert (
        client.get(f"{API}/optouts", headers=_bearer(tokens["viewer"])).json()["optouts"][0]["recipient"]
        == "15550000001"
    )
    assert client.delete(path, headers=XHR).status_code == 401
    assert client.delete(path, headers={**XHR, **_bearer(tokens["viewer"])}).status_code == 403  # read-only role
    assert client.delete(path, cookies={"_token": tokens["admin"]}).status_code == 403  # no X-Requested-With
    assert store.is_opted_out("telesign", "15550000001")

    response = client.delete(path, headers={**XHR, **_bearer(tokens["op"])})
    assert response.status_code == 200, response.text
    assert not store.is_opted_out("telesign", "15550000001")
    assert client.delete(path, headers={**XHR, **_bearer(tokens["admin"])}).status_code == 404
    assert client.delete(f"{API}/optouts/nope/1", headers={**XHR, **_bearer(tokens["admin"])}).status_code == 400


def test_page_is_static_and_callbacks_keep_their_own_auth(client: TestClient, tokens: dict[str, str]) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200 and "<h1>Messages</h1>" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "15550000001" not in page.text  # the page carries no data; its script reads the endpoints
    assert client.get("/ui/static/messages.js").status_code == 200
    assert client.get("/ui/static/../app.py").status_code == 404
    assert client.get("/ui", follow_redirects=False).headers["location"] == "ui/"
    # an Airflow login is no callback credential, and a callback secret opens no view
    assert client.post("/telesign/status", json={}, headers=_bearer(tokens["admin"])).status_code == 401
    assert client.get(f"{API}/messages", params={"token": "callback-secret"}).status_code == 401


def test_extreme_date_filters_are_400_naming_the_parameter(client: TestClient, tokens: dict[str, str]) -> None:
    """Dates a datetime cannot hold in UTC were 500 (until) and 503 (since); the last day is simply no bound."""
    auth = _bearer(tokens["viewer"])
    for params, name in (
        ({"since": "0001-01-01T00:00:00+23:00"}, "since"),
        ({"until": "9999-12-31T23:59:59-23:00"}, "until"),
        ({"until": "99999-12-31"}, "until"),
        ({"since": "2026-02-30"}, "since"),
        ({"dag_id": "dag\x00"}, "dag_id"),  # PostgreSQL refuses NUL in text: this was a 503 (found by the fuzz suite)
    ):
        response = client.get(f"{API}/messages", headers=auth, params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["detail"].startswith(f"{name}:"), response.text
    assert client.get(f"{API}/inbound", headers=auth, params={"sender": "1555\x00"}).status_code == 400
    assert client.get(f"{API}/messages/ts%001", headers=auth).status_code == 400
    for params in ({"until": "9999-12-31"}, {"since": "0001-01-01"}, {"since": "0001-01-01T00:00:00Z"}):
        response = client.get(f"{API}/messages", headers=auth, params=params)
        assert response.status_code == 200, (params, response.text)
        assert {m["message_id"] for m in response.json()["messages"]} == {"ts-1", "ts-2"}


def test_a_never_sent_message_opens_by_its_idempotency_key(store: MessageStore, tokens: dict[str, str]) -> None:
    """Its id is the key ``dag/task/run/map``: the browser sends ``%2F``, which must still reach the route."""
    from tests.support.uvicorn_server import serve_app

    key = "notify_dag/send_sms/manual__2026-01-01T00:00:00+00:00/0"
    store.reserve_send(idempotency_key=key, vendor="telesign", recipient="15550000009", channels=["sms"])
    fail_send(store, key, "Telesign API error: HTTP 400, code 11000: Invalid phone number", outcome_unknown=False)
    app = create_app(store=store, auth=CallbackAuth(token="callback-secret"))
    with serve_app(app) as url, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {tokens['viewer']}"
        listed = session.get(f"{url}{API}/messages", timeout=30).json()["messages"]
        assert [m["idempotency_key"] for m in listed] == [key] and not listed[0]["message_id"]
        encoded = quote(key, safe="")  # what encodeURIComponent makes of it
        assert "%2F" in encoded
        detail = session.get(f"{url}{API}/messages/{encoded}", params={"vendor": "telesign"}, timeout=30)
        assert detail.status_code == 200, detail.text
        assert detail.json()["message"]["idempotency_key"] == key
        assert session.get(f"{url}{API}/messages/{quote('no/such/key', safe='')}", timeout=30).status_code == 404


def test_a_policy_skip_is_listed_with_its_reason(store: MessageStore, tokens: dict[str, str]) -> None:
    """A send the sending policy skipped has a row: listed as SKIPPED with the reason, and opens by its key."""
    from airflow_provider_messaging.policies import SendingPolicy
    from airflow_provider_messaging.sending import Origin, SendLedger, SendRequest

    sent: list[str] = []

    def send() -> str:
        sent.append("x")
        return f"ts-cap-{len(sent)}"

    ledger = SendLedger(store, policy=SendingPolicy.from_dict({"caps": [{"limit": 1, "period": "1d"}]}))
    origin = Origin("promo_dag", "send_promo", "manual__1", None)
    for key in ("promo/1", "promo/2"):
        ledger.send(SendRequest(key, "telesign", "15550000042", ("sms",), send=send, origin=origin, message_type="MKT"))
    assert sent == ["x"]
    app = create_app(store=store, auth=CallbackAuth(token="callback-secret"))
    auth = {"Authorization": f"Bearer {tokens['viewer']}"}
    with TestClient(app) as client:
        listed = client.get(f"{API}/messages", headers=auth, params={"dag_id": "promo_dag"}).json()["messages"]
        by_key = {m["idempotency_key"]: m for m in listed}
        assert by_key["promo/1"]["send_status"] == "ACCEPTED"
        skipped = by_key["promo/2"]
        assert (skipped["send_status"], skipped["task_id"]) == ("SKIPPED", "send_promo") and not skipped["message_id"]
        assert skipped["error"].startswith("frequency_cap: ") and "cap 1 per 1d" in skipped["error"]
        detail = client.get(f"{API}/messages/{quote('promo/2', safe='')}", headers=auth, params={"vendor": "telesign"})
        assert detail.status_code == 200, detail.text
        assert detail.json()["message"]["send_status"] == "SKIPPED"
        # the page's script shows the badge with the skip code
        script = client.get("/ui/static/messages.js").text
        assert 'SKIPPED: { badge: "SKIPPED"' in script and "skipCode(m.error)" in script
