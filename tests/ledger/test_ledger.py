"""The send ledger on a real store (SQLite and PostgreSQL): reservation rules, leases, classification,
batched bulk writes, streaming, failover chains, and the ``release`` command."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, select, update

from airflow_provider_messaging.exceptions import (
    AuthenticationError,
    PayloadValidationError,
    RateLimitError,
    SendOutcomeUnknownError,
    StoreError,
    VendorAPIError,
    VendorServerError,
    VendorUnavailableError,
)
from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.sending import (
    FailureKind,
    Outcome,
    SendLedger,
    SendRequest,
    classify,
    failover_key,
)
from airflow_provider_messaging.store import MessageStore, ReservationReason, SendStatus
from airflow_provider_messaging.store.reservations import decide_reservation
from airflow_provider_messaging.store.schema import messages
from tests.support.store_helpers import complete_send, record_delivery

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
LEASE = 900.0


def row(status: str, age_seconds: float = 0) -> dict[str, Any]:
    return {"send_status": status, "updated_at": NOW - timedelta(seconds=age_seconds), "error": None}


@pytest.mark.parametrize(
    ("rows", "resend_unknown", "send", "reason"),
    [
        ([], False, True, ReservationReason.NEW),
        ([row("REJECTED")], False, True, ReservationReason.RETRY),
        ([row("ACCEPTED")], True, False, ReservationReason.ACCEPTED),
        ([row("RESERVED", 10)], False, False, ReservationReason.IN_FLIGHT),
        ([row("RESERVED", 10)], True, False, ReservationReason.IN_FLIGHT),  # in flight: never, even told to
        ([row("RESERVED", LEASE - 1)], True, False, ReservationReason.IN_FLIGHT),
        ([row("RESERVED", LEASE + 1)], False, False, ReservationReason.UNKNOWN),  # its sender died mid-send
        ([row("RESERVED", LEASE + 1)], True, True, ReservationReason.RETRY),
        ([row("UNKNOWN")], False, False, ReservationReason.UNKNOWN),
        ([row("UNKNOWN")], True, True, ReservationReason.RETRY),
        # failover siblings: any accepted wins; any in flight blocks every vendor
        ([row("REJECTED"), row("ACCEPTED")], True, False, ReservationReason.ACCEPTED),
        ([row("REJECTED"), row("RESERVED", 5)], True, False, ReservationReason.IN_FLIGHT),
        ([row("REJECTED"), row("UNKNOWN")], False, False, ReservationReason.UNKNOWN),
        ([row("REJECTED"), row("REJECTED")], False, True, ReservationReason.RETRY),
        # a send the policy skipped never blocks a later one the policy allows
        ([row("SKIPPED")], False, True, ReservationReason.RETRY),
        ([row("SKIPPED"), row("REJECTED")], False, True, ReservationReason.RETRY),
        ([row("SKIPPED"), row("ACCEPTED")], False, False, ReservationReason.ACCEPTED),
        ([row("SKIPPED"), row("RESERVED", 5)], True, False, ReservationReason.IN_FLIGHT),
        ([row("SKIPPED"), row("UNKNOWN")], False, False, ReservationReason.UNKNOWN),
    ],
)
def test_reservation_rules(rows: list[dict[str, Any]], resend_unknown: bool, send: bool, reason: str) -> None:
    decision = decide_reservation(rows, NOW, lease_seconds=LEASE, resend_unknown=resend_unknown)
    assert (decision.send, decision.reason) == (send, reason)


@pytest.mark.parametrize(
    ("error", "outcome", "kind"),
    [
        (SendOutcomeUnknownError("read timeout"), Outcome.UNKNOWN, None),
        (RateLimitError("telesign", 429), Outcome.TRANSIENT, FailureKind.RATE_LIMITED),
        (VendorServerError("telesign", 503), Outcome.TRANSIENT, FailureKind.UNAVAILABLE),
        (VendorUnavailableError("refused"), Outcome.TRANSIENT, FailureKind.UNAVAILABLE),
        (AuthenticationError("telesign", 401), Outcome.REJECTED, FailureKind.REJECTED),
        (VendorAPIError("aerialink", 400), Outcome.REJECTED, FailureKind.REJECTED),
        (PayloadValidationError("RcsText", []), Outcome.REJECTED, FailureKind.REJECTED),
        (RuntimeError("a bug after the request left?"), Outcome.UNKNOWN, None),
        (StoreError("store down mid-call"), Outcome.UNKNOWN, None),  # a MessagingError, but nothing says unsent
    ],
)
def test_one_classification_of_send_errors(error: Exception, outcome: Outcome, kind: FailureKind | None) -> None:
    classified = classify(error)
    assert (classified.outcome, classified.kind) == (outcome, kind)


class Vendor:
    """A send function factory that counts calls and hands out ids (the hook's place)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.ids = itertools.count(1)

    def ok(self, key: str) -> Any:
        def send() -> str:
            self.calls.append(key)
            return f"id-{next(self.ids)}"

        return send

    def fails(self, key: str, error: Exception) -> Any:
        def send() -> str:
            self.calls.append(key)
            raise error

        return send


def request(key: str, send: Any, *, vendor: str = "telesign", recipient: str = "15558675301") -> SendRequest:
    return SendRequest(key=key, vendor=vendor, recipient=recipient, channels=("rcs", "sms"), send=send)


def test_single_send_outcomes_and_what_the_store_keeps(store: MessageStore) -> None:
    vendor, ledger = Vendor(), SendLedger(store, lease_seconds=LEASE)

    first = ledger.send(request("k1", vendor.ok("k1")))
    again = ledger.send(request("k1", vendor.ok("k1")))
    assert (first.outcome, again.outcome) == (Outcome.ACCEPTED, Outcome.ALREADY_SENT)
    assert again.message_id == first.message_id == "id-1" and vendor.calls == ["k1"]
    assert first.record()["status"] == "QUEUED" and first.record()["outcome"] == "accepted"

    busy = ledger.send(request("k2", vendor.fails("k2", VendorServerError("telesign", 503))))
    assert busy.outcome is Outcome.TRANSIENT and "retry is safe" in (busy.error or "")
    assert store.get_status("k2").send_status == SendStatus.REJECTED  # type: ignore[union-attr]
    assert ledger.send(request("k2", vendor.ok("k2"))).outcome is Outcome.ACCEPTED  # nothing was sent: may send

    lost = ledger.send(request("k3", vendor.fails("k3", SendOutcomeUnknownError("read timeout"))))
    blocked = ledger.send(request("k3", vendor.ok("k3")))
    assert (lost.outcome, blocked.outcome) == (Outcome.UNKNOWN, Outcome.UNKNOWN)
    assert "resend_unknown=True" in (blocked.error or "") and "read timeout" in (blocked.error or "")
    assert vendor.calls.count("k3") == 1
    told = SendLedger(store, resend_unknown=True, lease_seconds=LEASE).send(request("k3", vendor.ok("k3")))
    assert told.outcome is Outcome.ACCEPTED and vendor.calls.count("k3") == 2


def test_a_leased_key_is_in_flight_then_unknown(store: MessageStore) -> None:
    vendor = Vendor()
    assert store.reserve_send(
        idempotency_key="zombie", vendor="telesign", recipient="15558675301", channels=["sms"]
    ).send
    eager = SendLedger(store, resend_unknown=True, lease_seconds=LEASE)
    in_flight = eager.send(request("zombie", vendor.ok("zombie")))
    assert in_flight.outcome is Outcome.IN_FLIGHT and "Another try is sending" in (in_flight.error or "")

    with store.engine.begin() as connection:  # the lease runs out: the sender died mid-send
        connection.execute(
            update(messages)
            .where(messages.c.idempotency_key == "zombie")
            .values(updated_at=datetime.now(timezone.utc) - timedelta(seconds=LEASE + 5))
        )
    careful = SendLedger(store, lease_seconds=LEASE).send(request("zombie", vendor.ok("zombie")))
    assert careful.outcome is Outcome.UNKNOWN and vendor.calls == []
    assert eager.send(request("zombie", vendor.ok("zombie"))).outcome is Outcome.ACCEPTED
    assert vendor.calls == ["zombie"]


def test_an_interrupted_send_is_recorded_as_unknown(store: MessageStore) -> None:
    def interrupted() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        SendLedger(store, lease_seconds=LEASE).send(request("cut", interrupted))
    assert store.get_status("cut").send_status == SendStatus.UNKNOWN  # type: ignore[union-attr]


def test_opted_out_recipients_are_skipped_before_any_reservation(store: MessageStore) -> None:
    vendor = Vendor()
    store.add_opt_out("telesign", "15558675301")
    skipped = SendLedger(store, lease_seconds=LEASE).send(request("k", vendor.ok("k")))
    assert skipped.outcome is Outcome.SKIPPED and skipped.record()["status"] == "SKIPPED_OPT_OUT"
    assert vendor.calls == []
    # recorded as a skip with its reason (the report counts it); it never blocks a later send of the key
    row = store.get_status("k")
    assert row is not None and row.send_status == SendStatus.SKIPPED and row.message_id in (None, "")
    assert row.error == "opted_out: 15558675301 opted out of telesign messages (STOP)"
    forced = SendLedger(store, respect_opt_out=False, lease_seconds=LEASE).send(request("k", vendor.ok("k")))
    assert forced.outcome is Outcome.ACCEPTED
    assert store.get_status("k").send_status == SendStatus.ACCEPTED  # type: ignore[union-attr]


def count_commits(store: MessageStore) -> Any:
    commits = {"n": 0}

    def on_commit(_connection: Any) -> None:
        commits["n"] += 1

    event.listen(store.engine, "commit", on_commit)
    return commits


def test_bulk_sends_stream_and_batch_their_writes(store: MessageStore) -> None:
    vendor, ledger = Vendor(), SendLedger(store, lease_seconds=LEASE)
    # earlier state of three keys: sent, refused (may send again), unknown (must not)
    ledger.send(request("bulk/0", vendor.ok("bulk/0"), recipient="15550000000"))
    ledger.send(request("bulk/1", vendor.fails("bulk/1", VendorAPIError("telesign", 400)), recipient="15550000001"))
    ledger.send(request("bulk/2", vendor.fails("bulk/2", SendOutcomeUnknownError("?")), recipient="15550000002"))
    store.add_opt_out("telesign", "15550000003")
    vendor.calls.clear()
    consumed = {"n": 0}
    total = 450

    def requests() -> Iterator[SendRequest]:
        for i in range(total):
            consumed["n"] += 1
            yield request(f"bulk/{i}", vendor.ok(f"bulk/{i}"), recipient=f"1555{i:07d}")

    commits = count_commits(store)
    results = ledger.send_many(requests(), concurrency=4, chunk_size=100)
    first = next(results)
    assert consumed["n"] <= 200, "requests are read a chunk or two ahead, never all at once"
    ends = {r.key: r for r in [first, *results]}

    assert len(ends) == total
    assert ends["bulk/0"].outcome is Outcome.ALREADY_SENT and ends["bulk/0"].message_id == "id-1"
    assert ends["bulk/1"].outcome is Outcome.ACCEPTED
    assert ends["bulk/2"].outcome is Outcome.UNKNOWN
    assert ends["bulk/3"].outcome is Outcome.SKIPPED
    assert sorted(vendor.calls) == sorted(f"bulk/{i}" for i in range(total) if i not in (0, 2, 3))
    assert all(r.state == "QUEUED" for r in ends.values() if r.outcome is Outcome.ACCEPTED)
    sent = [store.get_status(f"bulk/{i}") for i in range(4, total)]
    assert all(s is not None and s.send_status == SendStatus.ACCEPTED for s in sent)
    # 5 chunks: one reservation commit each plus batched completions - not two commits per message
    assert commits["n"] <= 5 + total // 50 + 10, commits


def test_bulk_completion_reconciles_callbacks_that_came_first(store: MessageStore) -> None:
    record_delivery(
        store,
        vendor="telesign",
        message_id="early-1",
        events=[ChannelEvent("rcs", DeliveryState.DELIVERED)],
        raw_body="{}",
    )
    ledger = SendLedger(store, lease_seconds=LEASE)
    [result] = list(ledger.send_many([request("early", lambda: "early-1")]))
    assert result.outcome is Outcome.ACCEPTED and result.state == "DELIVERED"
    status = store.get_status("early-1")
    assert status is not None and status.complete and status.delivered_channel == "rcs"


def test_failover_chain_records_every_step_and_stops_on_unknown(store: MessageStore) -> None:
    vendor, ledger = Vendor(), SendLedger(store, lease_seconds=LEASE)
    steps = [
        request(failover_key("L", 0, "telesign"), vendor.fails("t", VendorAPIError("telesign", 400))),
        request(failover_key("L", 1, "aerialink"), vendor.ok("a"), vendor="aerialink"),
    ]
    result = ledger.send_failover("L", steps)
    assert result.outcome is Outcome.ACCEPTED and result.vendor == "aerialink"
    assert [(a["vendor"], a["send_status"]) for a in result.attempts] == [
        ("telesign", "REJECTED"),
        ("aerialink", "ACCEPTED"),
    ]
    again = ledger.send_failover("L", steps)
    assert again.outcome is Outcome.ALREADY_SENT and again.vendor == "aerialink" and vendor.calls == ["t", "a"]

    unknown = [
        request(failover_key("U", 0, "telesign"), vendor.fails("t2", SendOutcomeUnknownError("timeout"))),
        request(failover_key("U", 1, "aerialink"), vendor.ok("a2"), vendor="aerialink"),
    ]
    stopped = ledger.send_failover("U", unknown)
    assert stopped.outcome is Outcome.UNKNOWN and "a2" not in vendor.calls

    only_rejections = ledger.send_failover("R", [steps[0].__class__(**{**steps[0].__dict__, "key": "R#0:telesign"})])
    assert only_rejections.outcome is Outcome.REJECTED and only_rejections.key == "R"


def test_failover_skips_a_recipient_opted_out_of_any_step_and_records_which(store: MessageStore) -> None:
    vendor, ledger = Vendor(), SendLedger(store, lease_seconds=LEASE)
    store.add_opt_out("aerialink", "15558675301")
    steps = [
        request(failover_key("O", 0, "telesign"), vendor.ok("t")),
        request(failover_key("O", 1, "aerialink"), vendor.ok("a"), vendor="aerialink"),
    ]
    skipped = ledger.send_failover("O", steps)
    assert skipped.outcome is Outcome.SKIPPED and skipped.skip_code == "opted_out" and skipped.key == "O"
    assert vendor.calls == []
    # the skip is the opted-out vendor's step, under the logical key
    assert [(a["attempt"], a["vendor"], a["send_status"]) for a in store.logical_history("O")] == [
        (1, "aerialink", "SKIPPED")
    ]
    store.remove_opt_out("aerialink", "15558675301")
    sent = ledger.send_failover("O", steps)  # a skip never blocks the logical key
    assert sent.outcome is Outcome.ACCEPTED and vendor.calls == ["t"]


def test_release_command_frees_a_stuck_key(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'release.db'}"
    store = MessageStore(url)
    store.upgrade()
    store.reserve_send(idempotency_key="stuck", vendor="telesign", recipient="15558675301", channels=["sms"])
    SendLedger(store, lease_seconds=LEASE).send(request("done", lambda: "id-done"))
    cli = [sys.executable, "-m", "airflow_provider_messaging.cli", "--store-url", url, "release"]
    env = os.environ.copy()

    released = subprocess.run(
        [*cli, "stuck", "--note", "vendor log shows no request"], capture_output=True, text=True, env=env, timeout=60
    )
    assert released.returncode == 0, released.stderr
    assert "released 'stuck' (was RESERVED)" in released.stdout
    status = store.get_status("stuck")
    assert status is not None and status.send_status == SendStatus.REJECTED
    assert SendLedger(store, lease_seconds=LEASE).send(request("stuck", lambda: "id-2")).outcome is Outcome.ACCEPTED

    refused = subprocess.run([*cli, "done"], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1 and "ACCEPTED: nothing to release" in refused.stderr
    missing = subprocess.run([*cli, "nope"], capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode == 1 and "no send under key 'nope'" in missing.stderr
    store.dispose()


def test_a_reused_vendor_id_does_not_leave_the_whole_batch_leased(store: MessageStore) -> None:
    ledger = SendLedger(store, lease_seconds=LEASE)
    ledger.send(request("first", lambda: "dup"))
    batch = [
        request("b/1", lambda: "x1", recipient="15550000011"),
        request("b/2", lambda: "dup", recipient="15550000012"),  # the vendor answered an id it gave before
        request("b/3", lambda: "x3", recipient="15550000013"),
    ]
    ends = {r.key: r for r in ledger.send_many(batch)}
    assert {k: r.outcome for k, r in ends.items()} == dict.fromkeys(("b/1", "b/2", "b/3"), Outcome.ACCEPTED)
    statuses = {k: store.get_status(k) for k in ("b/1", "b/2", "b/3")}
    assert statuses["b/1"].send_status == statuses["b/3"].send_status == SendStatus.ACCEPTED  # type: ignore[union-attr]
    assert statuses["b/2"].send_status == SendStatus.RESERVED  # type: ignore[union-attr]  # leased: never re-sent blindly


def test_a_policy_skip_is_recorded_and_never_blocks_the_key(store: MessageStore) -> None:
    """A SKIPPED row keeps the reason; the key's next reservation sends and counts from then on;
    a skip never overwrites a key that was sent (or is in flight)."""
    from airflow_provider_messaging.store import SendIntent, skip_code

    intent = SendIntent("skip/1", "telesign", "15551230001", ("sms",), "dag", "task", "run", None, message_type="MKT")
    assert store.record_skip(intent, code="window_unreachable", reason="no window opens within 1 day")
    with store.engine.connect() as connection:
        skipped = connection.execute(select(messages).where(messages.c.idempotency_key == "skip/1")).one()
    assert (skipped.send_status, skipped.dag_id, skipped.message_type) == ("SKIPPED", "dag", "MKT")
    assert skip_code(skipped.error) == "window_unreachable" and "no window opens" in skipped.error
    # a skipped send is not a send: it does not count for a cap
    from airflow_provider_messaging.policies.decision import CapScope

    scope = CapScope(since=skipped.created_at - timedelta(days=1))
    assert store.count_recent_sends("15551230001", [scope]) == {scope: 0}

    reservation = store.reserve_send(
        idempotency_key="skip/1", vendor="telesign", recipient="15551230001", channels=["sms"]
    )
    assert (reservation.send, reservation.reason) == (True, ReservationReason.RETRY)
    with store.engine.connect() as connection:
        reserved = connection.execute(select(messages).where(messages.c.idempotency_key == "skip/1")).one()
    assert (reserved.send_status, reserved.error) == (SendStatus.RESERVED, None)
    assert reserved.created_at >= skipped.created_at  # counts for the caps from its real send
    assert store.count_recent_sends("15551230001", [scope]) == {scope: 1}
    # in flight, then sent: a late skip record does not overwrite either
    assert not store.record_skip(intent, code="frequency_cap", reason="late")
    complete_send(store, "skip/1", "MID-SKIP-1")
    assert not store.record_skip(intent, code="frequency_cap", reason="late")
    assert store.get_status("MID-SKIP-1") is not None and store.get_status("MID-SKIP-1").send_status == "ACCEPTED"


def test_a_chunk_of_policy_skips_is_one_write_that_keeps_sent_keys(store: MessageStore) -> None:
    from airflow_provider_messaging.store import SendIntent, skip_code

    def intent(key: str) -> SendIntent:
        return SendIntent(key, "telesign", "15551230002", ("sms",), message_type="MKT")

    store.reserve_send(idempotency_key="chunk/sent", vendor="telesign", recipient="15551230002", channels=["sms"])
    complete_send(store, "chunk/sent", "MID-CHUNK-1")
    skips = [
        (intent("chunk/a"), "frequency_cap", "first"),
        (intent("chunk/a"), "window_unreachable", "listed twice: the last reason"),
        (intent("chunk/b"), "frequency_cap", "capped"),
        (intent("chunk/sent"), "frequency_cap", "a sent key keeps its row"),
    ]
    assert store.record_skips(skips) == 2
    with store.engine.connect() as connection:
        stored = {r.idempotency_key: r for r in connection.execute(select(messages)).all()}
    assert {k: r.send_status for k, r in stored.items()} == {
        "chunk/sent": "ACCEPTED",
        "chunk/a": "SKIPPED",
        "chunk/b": "SKIPPED",
    }
    assert skip_code(stored["chunk/a"].error) == "window_unreachable" and stored["chunk/sent"].error is None


def test_a_bulk_chunk_checks_opt_outs_in_one_query(store: MessageStore) -> None:
    store.add_opt_out("telesign", "15550000001")
    store.add_opt_out("aerialink", "15550000002")
    given = ["+1 555-000-0001", "15550000002", "15550000003", "15550000001"]
    assert store.opted_out_among("telesign", given) == {"+1 555-000-0001", "15550000001"}
    assert store.opted_out_among("aerialink", given) == {"15550000002"}
    assert store.opted_out_among("telesign", []) == set()

    selects = {"n": 0}

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        selects["n"] += statement.lstrip().upper().startswith("SELECT") and "messaging_opt_outs" in statement

    event.listen(store.read_engine, "before_cursor_execute", count)
    try:
        ends = list(
            SendLedger(store, lease_seconds=LEASE).send_many(
                [request(f"oo/{i}", lambda i=i: f"oo-{i}", recipient=f"155500000{i:02d}") for i in range(40)]
            )
        )
    finally:
        event.remove(store.read_engine, "before_cursor_execute", count)
    skipped = {r.recipient for r in ends if r.outcome is Outcome.SKIPPED}
    assert skipped == {"15550000001"}
    assert selects["n"] <= 3  # 40 recipients in chunks of 16: one opt-out query per chunk, not one per recipient
