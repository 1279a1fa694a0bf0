"""Delivery analytics against a store filled with known messages: every figure checked exactly."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from airflow_provider_messaging import cli
from airflow_provider_messaging.analytics import report as analytics
from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.store import MessageStore, NewInbound, SendIntent
from airflow_provider_messaging.store.schema import inbound_messages, messages
from tests.support.store_helpers import complete_send, fail_send, record_delivery

DAY = datetime(2025, 1, 1, tzinfo=timezone.utc)
SINCE, UNTIL = DAY, DAY + timedelta(days=1)
D, E, X = DeliveryState.DELIVERED, DeliveryState.EXPIRED, DeliveryState.FAILED


def _at(store: MessageStore, key: str, created: datetime, took: float | None) -> None:
    values: dict = {"created_at": created}
    if took is not None:
        values["completed_at"] = created + timedelta(seconds=took)
    with store.engine.begin() as connection:
        connection.execute(update(messages).where(messages.c.idempotency_key == key).values(**values))


def _message(store, key, vendor, recipient, channels, events=(), *, hour=10, took=None, logical=None, attempt=None):
    store.reserve_send(
        idempotency_key=key,
        vendor=vendor,
        recipient=recipient,
        channels=channels,
        logical_key=logical,
        attempt=attempt,
    )
    if events is None:  # the vendor refused it
        fail_send(store, key, "VendorAPIError: 400", outcome_unknown=False)
    else:
        complete_send(store, key, f"id-{key}")
        if events:
            record_delivery(
                store,
                vendor=vendor,
                message_id=f"id-{key}",
                events=[ChannelEvent(c, s) for c, s in events],
                raw_body=json.dumps({"k": key}),
            )
    _at(store, key, DAY + timedelta(hours=hour), took)


def _inbound(store, sender, text, action, created):
    record, _ = store.record_inbound(
        vendor="aerialink",
        raw_body=json.dumps({"s": sender, "t": text, "c": created.isoformat()}),
        inbound=NewInbound(channel="rcs", sender=sender, text=text, action=action),
    )
    with store.engine.begin() as connection:
        connection.execute(
            update(inbound_messages).where(inbound_messages.c.id == record.id).values(created_at=created)
        )


@pytest.fixture
def filled(store: MessageStore) -> MessageStore:
    rs = ["rcs", "sms"]
    _message(store, "m1", "telesign", "15550000001", rs, [("rcs", D)], took=2)
    _message(store, "m2", "telesign", "15550000002", rs, [("rcs", E), ("sms", D)], took=10)  # fallback
    _message(store, "m3", "telesign", "15550000003", rs, [("rcs", X), ("sms", X)])  # failed
    _message(store, "m4", "telesign", "15550000004", ["sms"], [])  # pending
    _message(store, "m5", "aerialink", "15550000005", rs, [("rcs", D)], took=4)
    _message(store, "m6", "aerialink", "15550000006", ["rcs"], [("rcs", DeliveryState.READ)], took=6)
    _message(store, "m7", "telesign", "15550000007", ["sms"], None)  # refused by the vendor
    _message(store, "m8", "telesign", "15550000008", ["sms"], [("sms", D)], hour=-2, took=1)  # before the window
    # a failover send: Telesign refused, Aerialink took and delivered it
    _message(store, "L#0:telesign", "telesign", "15550000009", rs, None, logical="L", attempt=0)
    _message(store, "L#1:aerialink", "aerialink", "15550000009", ["rcs"], [("rcs", D)], took=8, logical="L", attempt=1)
    # sends the sending policy skipped: counted by reason, never as sent or failed
    for key, code in (("s1", "frequency_cap"), ("s2", "frequency_cap"), ("s3", "window_unreachable")):
        intent = SendIntent(key, "telesign", "15550000001", ("sms",), message_type="MKT")
        store.record_skip(intent, code=code, reason=f"{key} held back")
        _at(store, key, DAY + timedelta(hours=11), None)
    noon = DAY + timedelta(hours=12)
    _inbound(store, "+1 555 000 0001", "YES", "generic", noon)
    _inbound(store, "15550000001", "thanks", None, noon + timedelta(minutes=1))
    _inbound(store, "15550000002", "STOP", "stop", noon)
    _inbound(store, "15559999999", "who is this", None, noon)  # never messaged
    _inbound(store, "15550000003", "STOP", "stop", DAY + timedelta(days=2))  # after the window
    return store


def test_figures_are_exact(filled: MessageStore) -> None:
    report = analytics.from_store(filled, SINCE, UNTIL)
    assert (report.sent, report.send_failures) == (7, 2)
    assert report.skipped_by_policy == {"frequency_cap": 2, "window_unreachable": 1}
    assert (report.delivered, report.failed, report.pending, report.fallback) == (5, 1, 1, 1)
    assert report.delivery_rate == pytest.approx(5 / 7) and report.fallback_rate == pytest.approx(1 / 7)
    assert report.time_to_deliver_s == {"p50": 6.0, "p90": 10.0, "p95": 10.0, "p99": 10.0}
    assert (report.recipients, report.replied, report.opted_out) == (7, 2, 1)
    assert report.reply_rate == pytest.approx(2 / 7) and report.opt_out_rate == pytest.approx(1 / 7)
    assert (report.logical_sends, report.vendor_failovers) == (1, 1)
    groups = {(g.vendor, g.channel): g for g in report.groups}
    assert list(groups) == [("aerialink", "rcs"), ("telesign", "rcs"), ("telesign", "sms")]
    a, t, s = groups.values()
    assert (a.sent, a.delivered, a.failed, a.pending, a.fallback, a.delivered_on) == (3, 3, 0, 0, 0, {"rcs": 3})
    assert (t.sent, t.delivered, t.failed, t.pending, t.fallback) == (3, 2, 1, 0, 1)
    assert t.delivered_on == {"rcs": 1, "sms": 1} and t.delivery_rate == pytest.approx(2 / 3)
    assert (s.sent, s.pending, s.delivery_rate) == (1, 1, 0.0)


def test_percentile_is_nearest_rank() -> None:
    assert analytics.percentile([], 50) is None
    assert analytics.percentile([3.0], 99) == 3.0
    assert [analytics.percentile([4, 1, 3, 2], p) for p in (25, 50, 75, 100)] == [1, 2, 3, 4]


def test_cli_table_json_and_chart(filled: MessageStore, tmp_path, capsys) -> None:
    base = ["--store-url", filled.url, "report", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]
    assert cli.main([*base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["sent"], data["delivered"], data["fallback"], data["replied"]) == (7, 5, 1, 2)
    assert data["time_to_deliver_s"]["p50"] == 6.0
    assert data["skipped_by_policy"] == {"frequency_cap": 2, "window_unreachable": 1}
    chart = tmp_path / "report.png"
    assert cli.main([*base, "--chart", str(chart)]) == 0
    table = capsys.readouterr().out
    assert "telesign   rcs            3      2      1      0   66.7%   33.3%  rcs 1, sms 1" in table
    assert "total" in table and "71.4%" in table and "p50 6.00s" in table
    assert "skipped by policy: 3   frequency cap: 2   window unreachable: 1" in table
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "report.svg"
    assert cli.main([*base, "--chart", str(svg)]) == 0
    assert b"<svg" in svg.read_bytes()[:500]


@pytest.fixture(scope="module")
def viewer_token(airflow_db: Path) -> str:
    """A token of Airflow's own auth manager (SimpleAuthManager), role viewer."""
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(init_auth_manager().generate_jwt(SimpleAuthManagerUser(username="viewer-user", role="viewer")))


def test_receiver_report_route_needs_an_airflow_login(filled: MessageStore, viewer_token: str) -> None:
    """Behind Airflow's login like the Messages view; the vendors' callback secret opens nothing."""
    app = create_app(store=filled, auth=CallbackAuth(token="s3cret", username="ops", password="pw", disabled=True))
    client = TestClient(app)
    window = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    assert client.get("/report", params=window).status_code == 401  # callback_auth_disabled does not open it
    assert client.get("/report", params={**window, "token": "s3cret"}).status_code == 401
    assert client.get("/report", params=window, auth=("ops", "pw")).status_code == 401
    assert client.get("/report", params=window, headers={"Authorization": "Bearer s3cret"}).status_code == 403
    login = {"Authorization": f"Bearer {viewer_token}"}
    ok = client.get("/report", params=window, headers=login)
    assert ok.status_code == 200 and (ok.json()["sent"], ok.json()["delivered"]) == (7, 5)
    assert client.get("/report", params=window, cookies={"_token": viewer_token}).json()["fallback"] == 1
    png = client.get("/report", params={**window, "chart": "png"}, cookies={"_token": viewer_token})
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    svg = client.get("/report", params={**window, "chart": "svg"}, headers=login)
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content[:500]

    # bad windows are 400 naming the parameter, never a 500 (issue 15.5)
    for params, name in (
        ({"since": "yesterday"}, "since"),
        ({"since": "99999999999d"}, "since"),
        ({"until": "0001-01-01T00:00:00+23:00"}, "until"),
        ({"until": "9999-12-31T23:59:59-23:00"}, "until"),
        ({"until": "0001-01-01T00:00:00Z"}, "since"),  # the default 7d window before year 1
    ):
        response = client.get("/report", params=params, headers=login)
        assert response.status_code == 400, (params, response.text)
        assert name in response.json()["reason"], (params, response.text)


def test_relative_times() -> None:
    from airflow_provider_messaging.receiver.report_routes import parse_time

    now = datetime(2025, 1, 8, tzinfo=timezone.utc)
    assert parse_time("7d", now=now) == DAY
    assert parse_time("90m", now=now) == now - timedelta(minutes=90)
    assert parse_time("2025-01-01T00:00:00", now=now) == DAY
