"""The sending policy applied by the send ledger, before reserving: waits, skips and race-free caps.

Sends go over real HTTP to a local vendor stand-in; the store is SQLite and a real PostgreSQL.
"""

from __future__ import annotations

import json
import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from airflow_provider_messaging.policies import SendingPolicy
from airflow_provider_messaging.sending import Outcome, SendLedger, SendRequest
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.store.schema import messages
from tests.policies.policy_workers import send_one
from tests.support.http_server import LocalHttpServer, Recorded, Reply

NEW_YORK = "12025550123"  # America/New_York
SYDNEY = "61293744000"  # Australia/Sydney
PATH = "/v1/omnichannel"
# 2026-01-15 15:00 UTC: 10:00 in New York (MKT window open), 02:00 next day in Sydney (closed)
NOON_NY = datetime(2026, 1, 15, 15, 0, tzinfo=timezone.utc)
MKT_HOURS = {"windows": {"MKT": "08:00-21:00"}}
ONE_A_DAY = {"caps": [{"limit": 1, "period": "1d"}]}


def _accept(request: Recorded) -> Reply:
    body = request.json()
    if body.get("phone_number") == "15550000400":
        return Reply(400, {"status": {"code": 3101, "description": "Invalid phone_number"}})
    if body.get("phone_number") == "15550000510":
        return Reply(400, {"status": {"code": 510, "description": "Message blocked by subscriber action or request"}})
    return Reply(200, {"status": {"code": 3001}, "reference_id": uuid.uuid4().hex.upper()})


@pytest.fixture
def vendor(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHttpServer]:
    with LocalHttpServer(_accept) as server:
        conn = {
            "conn_type": "telesign",
            "host": server.url,
            "login": "CID",
            "password": "a2V5",
            "extra": {"max_retries": 0},
        }
        monkeypatch.setenv("AIRFLOW_CONN_POLICY_TELESIGN", json.dumps(conn))
        yield server


def _request(vendor: LocalHttpServer, key: str, recipient: str, message_type: str = "MKT") -> SendRequest:
    """A Telesign SMS sent through the real hook (its error mapping decides rejected vs unknown)."""
    from airflow_provider_messaging.hooks.telesign import TelesignHook
    from airflow_provider_messaging.models.telesign import OmnichannelRequest

    payload = OmnichannelRequest.parse(
        {
            "channels": [{"channel": "sms"}],
            "phone_number": recipient,
            "message": {"sms": {"template": "text", "parameters": {"text": "Spring sale: 20% off today"}}},
            "message_type": message_type,
        }
    )

    def send() -> str:
        reference = TelesignHook(telesign_conn_id="policy_telesign").send_omnichannel(payload).reference_id
        assert reference
        return reference

    return SendRequest(key, "telesign", recipient, ("sms",), send=send, message_type=message_type)


def _ledger(store: MessageStore, policy: dict[str, Any], now: datetime = NOON_NY, **kwargs: Any) -> SendLedger:
    clock: Callable[[], datetime] = lambda: now  # noqa: E731
    return SendLedger(store, policy=SendingPolicy.from_dict(policy), clock=clock, lease_seconds=900, **kwargs)


def _rows(store: MessageStore) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(messages).order_by(messages.c.id))]


def test_a_closed_window_waits_and_reserves_nothing(store: MessageStore, vendor: LocalHttpServer) -> None:
    ledger = _ledger(store, MKT_HOURS)
    result = ledger.send(_request(vendor, "k-sydney", SYDNEY))
    assert result.outcome is Outcome.WAITING
    # 08:00 AEDT on 2026-01-16 = 21:00 UTC on 2026-01-15
    assert result.send_at == datetime(2026, 1, 15, 21, 0, tzinfo=timezone.utc)
    record = result.record()
    assert record["status"] == "WAITING" and record["send_at"] == "2026-01-15T21:00:00+00:00"
    assert "Australia/Sydney" in record["error"]
    assert _rows(store) == [] and vendor.requests_to(PATH) == []
    # an OTP to the same number is exempt; an MKT to New York is inside its window
    assert ledger.send(_request(vendor, "k-otp", SYDNEY, "OTP")).outcome is Outcome.ACCEPTED
    assert ledger.send(_request(vendor, "k-ny", NEW_YORK)).outcome is Outcome.ACCEPTED
    assert [r["message_type"] for r in _rows(store)] == ["OTP", "MKT"]
    # when the window opens, the same key sends
    later = _ledger(store, MKT_HOURS, now=result.send_at)
    assert later.send(_request(vendor, "k-sydney", SYDNEY)).outcome is Outcome.ACCEPTED
    assert len(vendor.requests_to(PATH)) == 3


def test_a_frequency_cap_skips_with_a_clear_reason(store: MessageStore, vendor: LocalHttpServer) -> None:
    # caps count stored rows, whose times are the store's wall clock: decide with the wall clock too
    ledger = _ledger(store, ONE_A_DAY, now=datetime.now(timezone.utc))
    first = ledger.send(_request(vendor, "k1", NEW_YORK))
    assert first.outcome is Outcome.ACCEPTED
    second = ledger.send(_request(vendor, "k2", NEW_YORK))
    assert second.outcome is Outcome.SKIPPED and second.skip_code == "frequency_cap"
    assert second.record()["status"] == "SKIPPED_FREQUENCY_CAP"
    assert "1 sent, cap 1 per 1d" in (second.error or "")
    # the skip is recorded with its reason (the Messages view and the report show it)
    skipped = {r["idempotency_key"]: r for r in _rows(store)}["k2"]
    assert (skipped["send_status"], skipped["message_id"]) == ("SKIPPED", None)
    assert skipped["error"] == f"frequency_cap: {second.error}"
    # a retry of the first key is not capped by its own earlier send: it returns it
    again = ledger.send(_request(vendor, "k1", NEW_YORK))
    assert again.outcome is Outcome.ALREADY_SENT and again.message_id == first.message_id
    # an exempt OTP passes
    assert ledger.send(_request(vendor, "k-otp", NEW_YORK, "OTP")).outcome is Outcome.ACCEPTED
    # a day after the first send the cap is free again (a rolling period)
    created = _rows(store)[0]["created_at"]
    tomorrow = _ledger(store, ONE_A_DAY, now=created + timedelta(days=1, seconds=1))
    # the skipped key does not block its own later send: the policy allows it now, so it sends
    resent = tomorrow.send(_request(vendor, "k2", NEW_YORK))
    assert resent.outcome is Outcome.ACCEPTED
    row = {r["idempotency_key"]: r for r in _rows(store)}["k2"]
    assert (row["send_status"], row["message_id"], row["error"]) == ("ACCEPTED", resent.message_id, None)
    assert len(vendor.requests_to(PATH)) == 3


def test_a_rejected_send_does_not_count(store: MessageStore, vendor: LocalHttpServer) -> None:
    ledger = _ledger(store, ONE_A_DAY, now=datetime.now(timezone.utc))
    assert ledger.send(_request(vendor, "bad", "15550000400")).outcome is Outcome.REJECTED
    second = ledger.send(_request(vendor, "bad-again", "15550000400"))
    assert second.outcome is Outcome.REJECTED  # tried (not capped): the first one was never sent
    assert len(vendor.requests_to(PATH)) == 2


def test_caps_per_vendor_and_per_type(store: MessageStore, vendor: LocalHttpServer) -> None:
    policy = {"caps": [{"limit": 1, "period": "1d", "per_vendor": True, "per_message_type": True}]}
    ledger = _ledger(store, policy, now=datetime.now(timezone.utc))
    assert ledger.send(_request(vendor, "a", NEW_YORK, "MKT")).outcome is Outcome.ACCEPTED
    assert ledger.send(_request(vendor, "b", NEW_YORK, "ARN")).outcome is Outcome.ACCEPTED  # another type
    other_vendor = _request(vendor, "c", NEW_YORK, "MKT")
    other_vendor = SendRequest("c", "aerialink", NEW_YORK, ("rcs",), send=other_vendor.send, message_type="MKT")
    assert ledger.send(other_vendor).outcome is Outcome.ACCEPTED  # counted apart
    capped = ledger.send(_request(vendor, "d", NEW_YORK, "MKT"))
    assert capped.outcome is Outcome.SKIPPED and "per vendor, per message type" in (capped.error or "")


def test_bulk_each_recipient_waits_for_its_own_window_and_caps_hold(
    store: MessageStore, vendor: LocalHttpServer
) -> None:
    # 15:00 UTC: 10:00 in New York (open), 07:00 in Los Angeles and 02:00 in Sydney (closed)
    la = "13105550123"
    capped = "12025550199"
    now = datetime.now(timezone.utc).replace(hour=15, minute=0, second=0, microsecond=0)
    ledger = _ledger(store, {**MKT_HOURS, **ONE_A_DAY}, now=now)
    if ledger.send(_request(vendor, "earlier", capped)).outcome is not Outcome.ACCEPTED:
        pytest.skip("New York is outside 08:00-21:00 at 15:00 UTC only on no day of the year")
    requests = [_request(vendor, f"bulk/{n}", n) for n in (NEW_YORK, SYDNEY, capped, la)]
    results = {r.recipient: r for r in ledger.send_many(requests, concurrency=4)}
    assert results[NEW_YORK].outcome is Outcome.ACCEPTED
    assert results[capped].outcome is Outcome.SKIPPED and results[capped].skip_code == "frequency_cap"
    assert results[SYDNEY].outcome is Outcome.WAITING and results[la].outcome is Outcome.WAITING
    assert results[la].send_at is not None and results[la].send_at > now
    assert results[SYDNEY].send_at is not None and results[SYDNEY].send_at > now
    # waiting recipients have no row (they send later); the capped one is recorded as skipped
    stored = {r["idempotency_key"]: r["send_status"] for r in _rows(store)}
    assert stored == {"earlier": "ACCEPTED", "bulk/12025550123": "ACCEPTED", f"bulk/{capped}": "SKIPPED"}


def test_bulk_counts_its_own_chunk(store: MessageStore, vendor: LocalHttpServer) -> None:
    """Two keys to one recipient in one reservation batch: the cap lets only the first through."""
    ledger = _ledger(store, ONE_A_DAY, now=datetime.now(timezone.utc))
    requests = [_request(vendor, "x/1", NEW_YORK), _request(vendor, "x/2", NEW_YORK)]
    outcomes = sorted(r.outcome.value for r in ledger.send_many(requests, concurrency=2))
    assert outcomes == ["accepted", "skipped"]
    assert len(vendor.requests_to(PATH)) == 1
    # refused inside the reservation's transaction: recorded there, with the cap's reason
    rows = {r["idempotency_key"]: r for r in _rows(store)}
    assert rows["x/2"]["send_status"] == "SKIPPED" and rows["x/2"]["error"].startswith("frequency_cap: ")
    # a later bulk run the policy allows sends the skipped key (a day later: the cap is free again)
    later = _ledger(store, ONE_A_DAY, now=rows["x/1"]["created_at"] + timedelta(days=1, seconds=1))
    assert [r.outcome for r in later.send_many([_request(vendor, "x/2", NEW_YORK)])] == [Outcome.ACCEPTED]
    assert {r["idempotency_key"]: r["send_status"] for r in _rows(store)} == {"x/1": "ACCEPTED", "x/2": "ACCEPTED"}


def test_eight_processes_one_recipient_cap_of_one_per_day(store: MessageStore, vendor: LocalHttpServer) -> None:
    """Eight worker processes send (distinct keys) to one recipient at once under 1 per day: exactly one goes."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(8)
    with context.Pool(8) as pool:
        jobs = [
            pool.apply_async(send_one, (store.url, vendor.url + PATH, f"race/{i}", NEW_YORK, ONE_A_DAY, barrier))
            for i in range(8)
        ]
        outcomes = sorted(job.get(timeout=240) for job in jobs)
    assert outcomes == ["accepted:"] + ["skipped:frequency_cap"] * 7
    assert len(vendor.requests_to(PATH)) == 1  # the vendor saw one message
    assert sorted(r["send_status"] for r in _rows(store)) == ["ACCEPTED"] + ["SKIPPED"] * 7


def test_a_vendor_opt_out_error_puts_the_recipient_on_the_list(store: MessageStore, vendor: LocalHttpServer) -> None:
    ledger = SendLedger(store, lease_seconds=900)  # no policy needed: opt-outs always apply
    refused = ledger.send(_request(vendor, "blocked", "15550000510"))
    assert refused.outcome is Outcome.REJECTED
    assert store.is_opted_out("telesign", "15550000510")
    [entry] = store.consent_history("telesign", "15550000510")
    assert (entry["action"], entry["method"]) == ("opt_out", "vendor_error")
    assert entry["detail"] == "code 510: Message blocked by subscriber action or request"
    again = ledger.send(_request(vendor, "blocked-2", "15550000510"))
    assert again.outcome is Outcome.SKIPPED and again.skip_code == "opted_out"
    assert len(vendor.requests_to(PATH)) == 1
    # an ordinary refusal does not opt anyone out
    assert ledger.send(_request(vendor, "invalid", "15550000400")).outcome is Outcome.REJECTED
    assert not store.is_opted_out("telesign", "15550000400")


def test_failover_counts_one_logical_message_once(store: MessageStore, vendor: LocalHttpServer) -> None:
    """A failover whose first vendor refuses and second accepts is one message for the cap."""
    from airflow_provider_messaging.sending import failover_key

    ledger = _ledger(store, ONE_A_DAY, now=datetime.now(timezone.utc))

    def steps(logical: str, first_recipient_number: str) -> list[SendRequest]:
        refused = _request(vendor, failover_key(logical, 0, "telesign"), first_recipient_number)
        accepted = _request(vendor, failover_key(logical, 1, "telesign"), NEW_YORK)
        # both steps address NEW_YORK in the store; the first one's HTTP body hits the refusing number
        return [
            SendRequest(refused.key, "telesign", NEW_YORK, ("sms",), send=refused.send, message_type="MKT"),
            SendRequest(accepted.key, "aerialink", NEW_YORK, ("rcs",), send=accepted.send, message_type="MKT"),
        ]

    first = ledger.send_failover("logical-1", steps("logical-1", "15550000400"))
    assert first.outcome is Outcome.ACCEPTED and first.vendor == "aerialink"
    second = ledger.send_failover("logical-2", steps("logical-2", NEW_YORK))
    assert second.outcome is Outcome.SKIPPED and second.skip_code == "frequency_cap"
    assert second.key == "logical-2"
    [skip] = [a for a in store.logical_history("logical-2")]
    assert skip["send_status"] == "SKIPPED" and skip["error"].startswith("frequency_cap: ")
    assert len(vendor.requests_to(PATH)) == 2  # the refusal and the accepted fallback; nothing for logical-2
