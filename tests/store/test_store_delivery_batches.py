"""Group commits of delivery callbacks on both stores: a batch decides exactly as the same callbacks one by one.

On PostgreSQL ``record_deliveries`` writes each table of a batch with one statement (the batch's rows as
one JSON parameter); these tests cover what that adds: several callbacks of one message and channel in
one batch, vendors mixed in a batch, batches far past any bind-parameter limit, a bad callback in a batch.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState, MessageStatus
from airflow_provider_messaging.receiver.batching import CommitBatcher
from airflow_provider_messaging.store import DeliveryRecord, MessageStore, StoreUnavailableError
from airflow_provider_messaging.store.schema import callbacks, channel_attempts
from tests.support.store_helpers import complete_send

T0 = datetime(2020, 5, 4, 22, 0, tzinfo=timezone.utc)
S = DeliveryState


def _sent(store: MessageStore, mid: str, vendor: str = "telesign", channels: tuple[str, ...] = ("rcs", "sms")) -> None:
    key = f"{vendor}/{mid}"
    assert store.reserve_send(idempotency_key=key, vendor=vendor, recipient="15558675309", channels=channels).send
    complete_send(store, key, mid)


def ev(channel: str, state: DeliveryState, seconds: int | None, code: str = "c") -> ChannelEvent:
    at = None if seconds is None else T0 + timedelta(seconds=seconds)
    return ChannelEvent(channel, state, code, f"{state.value} {code}", f"{channel}-ref-{seconds}", at)


def rec(mid: str, *events: ChannelEvent, vendor: str = "telesign", body: str | None = None) -> DeliveryRecord:
    return DeliveryRecord(vendor, mid, events, body if body is not None else f'{{"id": "{mid}", "n": {len(events)}}}')


# Callbacks of one message in arrival order: duplicates, out of order, equal ranks with and without times,
# a channel's first event and its update in the same callback, a naive time (stored as UTC).
SEQUENCE: list[tuple[ChannelEvent, ...]] = [
    (ev("rcs", S.QUEUED, 1),),
    (ev("rcs", S.SENT, 5), ev("rcs", S.QUEUED, 6)),  # a weaker event after a stronger one, same callback
    (ev("rcs", S.SENT, 3),),  # same rank, older: ignored
    (ev("rcs", S.SENT, 8, "later"),),  # same rank, newer: replaces
    (ev("rcs", S.SENT, None, "no time"),),  # same rank, no time: ignored
    (ev("rcs", S.EXPIRED, 60, "3056"), ev("sms", S.QUEUED, 61)),
    (ev("sms", S.QUEUED, 61),),  # duplicate
    (ev("sms", S.DELIVERED, 120, "3000"),),
    (ev("sms", S.SENT, 100),),  # late and weaker: ignored
    (ev("sms", S.DELIVERED, 120, "3000"),),  # duplicate of the final one
    (ChannelEvent("sms", S.READ, "r", "read", "sms-ref", datetime(2020, 5, 4, 22, 5)),),  # naive time
]


def _attempt_rows(store: MessageStore, mid: str) -> list[dict[str, Any]]:
    query = select(channel_attempts).where(channel_attempts.c.message_id == mid).order_by(channel_attempts.c.channel)
    with store.read_engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    keep = ("vendor", "channel", "state", "code", "description", "channel_reference_id", "updated_on")
    return [{k: row[k] for k in keep} for row in rows]


def _bodies(store: MessageStore, mid: str) -> list[str]:
    query = select(callbacks.c.body).where(callbacks.c.message_id == mid).order_by(callbacks.c.id)
    with store.read_engine.connect() as connection:
        return [row.body for row in connection.execute(query)]


def _summary(status: MessageStatus | None) -> tuple[Any, ...]:
    assert status is not None
    return (
        status.state,
        status.complete,
        status.delivered_channel,
        [(a.channel, a.state, a.code, a.description, a.channel_reference_id, a.updated_on) for a in status.attempts],
        status.completed_at is not None,
    )


def test_a_batch_decides_as_the_sqlite_path_and_its_attempts_as_one_by_one(store: MessageStore, tmp_path: Path) -> None:
    """Every prefix of SEQUENCE as ONE batch: the same message and attempt rows as on a SQLite store (whose
    writes are per row, executemany), and the same attempts and message summary as the callbacks applied
    one at a time (a batch never ends lower than its callbacks committed singly: SENT, then the first
    channel's EXPIRED while the fallback runs, stays SENT)."""
    reference = MessageStore(f"sqlite:///{tmp_path}/reference.db")
    reference.upgrade()
    try:
        for n in range(1, len(SEQUENCE) + 1):
            for s in (store, reference):
                _sent(s, f"BATCH{n}")
                _sent(s, f"SINGLE{n}")
            batch = [rec(f"BATCH{n}", *events) for events in SEQUENCE[:n]]
            results = store.record_deliveries(batch)
            assert [_summary(r) for r in results] == [_summary(r) for r in reference.record_deliveries(batch)], n
            assert _summary(store.get_status(f"BATCH{n}")) == _summary(reference.get_status(f"BATCH{n}")), n
            assert _attempt_rows(store, f"BATCH{n}") == _attempt_rows(reference, f"BATCH{n}"), n
            assert len(_bodies(store, f"BATCH{n}")) == n  # every raw callback kept, duplicates included
            for events in SEQUENCE[:n]:
                store.record_deliveries([rec(f"SINGLE{n}", *events)])
            assert _attempt_rows(store, f"BATCH{n}") == _attempt_rows(store, f"SINGLE{n}"), n
            assert _summary(store.get_status(f"BATCH{n}")) == _summary(store.get_status(f"SINGLE{n}")), n
            # every callback of a batch is answered with its message's status after the whole batch
            assert all(_summary(r) == _summary(store.get_status(f"BATCH{n}")) for r in results)
    finally:
        reference.dispose()
    final = store.get_status(f"BATCH{len(SEQUENCE)}")
    assert final is not None and final.complete and final.state is S.READ and final.delivered_channel == "sms"
    assert _summary(final) == _summary(store.get_status(f"SINGLE{len(SEQUENCE)}"))
    read = next(row for row in _attempt_rows(store, f"BATCH{len(SEQUENCE)}") if row["channel"] == "sms")
    assert read["updated_on"] == datetime(2020, 5, 4, 22, 5, tzinfo=timezone.utc)  # the naive time, as UTC


def test_two_callbacks_of_one_message_and_channel_in_one_batch(store: MessageStore) -> None:
    _sent(store, "M1", channels=("sms",))
    _sent(store, "M2", channels=("sms",))
    results = store.record_deliveries(
        [
            rec("M1", ev("sms", S.SENT, 1)),  # first event of the channel: inserted ...
            rec("M1", ev("sms", S.DELIVERED, 2, "3000")),  # ... then replaced within the batch
            rec("M2", ev("sms", S.DELIVERED, 2, "3000")),
            rec("M2", ev("sms", S.SENT, 1)),  # out of order within the batch: ignored
        ]
    )
    for mid in ("M1", "M2"):
        rows = _attempt_rows(store, mid)
        assert [(r["channel"], r["state"], r["code"]) for r in rows] == [("sms", "DELIVERED", "3000")]
        assert len(_bodies(store, mid)) == 2
    assert [r.state if r else None for r in results] == [S.DELIVERED] * 4
    # existing attempts updated in one batch (M1's twice: the newest wins, still one row)
    store.record_deliveries(
        [
            rec("M1", ev("sms", S.READ, 3, "r1")),
            rec("M2", ev("sms", S.READ, 3, "m2")),
            rec("M1", ev("sms", S.READ, 4, "r2")),
            rec("M2", ev("sms", S.READ, 2, "older")),  # same rank, older: ignored
        ]
    )
    assert [(r["state"], r["code"]) for r in _attempt_rows(store, "M1")] == [("READ", "r2")]
    assert [(r["state"], r["code"]) for r in _attempt_rows(store, "M2")] == [("READ", "m2")]
    m1 = store.get_status("M1")
    assert m1 is not None and m1.state is S.READ and [a.code for a in m1.attempts] == ["r2"]


def test_a_batch_mixing_vendors_keeps_each_vendors_message_apart(store: MessageStore) -> None:
    """The same vendor message id at two vendors, one batch: each callback moves its own vendor's message."""
    _sent(store, "SAME", vendor="telesign", channels=("sms",))
    _sent(store, "SAME", vendor="aerialink", channels=("sms",))
    _sent(store, "T-ONLY", vendor="telesign", channels=("sms",))
    results = store.record_deliveries(
        [
            rec("SAME", ev("sms", S.DELIVERED, 5, "t"), vendor="telesign", body="telesign body"),
            rec("SAME", ev("sms", S.FAILED, 5, "a"), vendor="aerialink", body="aerialink body"),
            rec("T-ONLY", ev("sms", S.SENT, 5), vendor="telesign"),
            rec("NOT-SENT", ev("sms", S.DELIVERED, 5), vendor="aerialink"),  # callback before its send
        ]
    )
    assert [(r.vendor, r.state) if r else None for r in results] == [
        ("telesign", S.DELIVERED),
        ("aerialink", S.FAILED),
        ("telesign", S.SENT),
        None,
    ]
    telesign, aerialink = store.get_status("SAME", vendor="telesign"), store.get_status("SAME", vendor="aerialink")
    assert telesign is not None and telesign.complete and telesign.attempts[0].code == "t"
    assert aerialink is not None and aerialink.complete and aerialink.state is S.FAILED
    assert aerialink.attempts[0].code == "a"
    rows = _attempt_rows(store, "SAME")
    assert sorted((r["vendor"], r["state"]) for r in rows) == [("aerialink", "FAILED"), ("telesign", "DELIVERED")]
    assert sorted(_bodies(store, "SAME")) == ["aerialink body", "telesign body"]
    assert _attempt_rows(store, "NOT-SENT")[0]["vendor"] == "aerialink"  # kept for the send's reconciliation


def test_a_batch_far_past_any_bind_parameter_limit(store: MessageStore) -> None:
    """7,000 callbacks with 2 events each in one batch: 14,000 attempt rows of 10 columns (> 65,535 values)."""
    n = 7000
    for i in range(3):
        _sent(store, f"BIG{i}")
    records = [
        rec(f"BIG{i}", ev("rcs", S.EXPIRED, 60, "3056"), ev("sms", S.DELIVERED, 120, "3000"), body="é" * (i % 50))
        for i in range(n)
    ]
    results = store.record_deliveries(records)
    assert len(results) == n
    assert [r.state if r else None for r in results[:3]] == [S.DELIVERED] * 3 and results[3] is None
    assert store.count("callbacks") == n and store.count("attempts") == 2 * n
    assert _bodies(store, "BIG7") == ["é" * 7]
    status = store.get_status("BIG1")
    assert status is not None and status.complete and [a.code for a in status.attempts] == ["3056", "3000"]


class _GatedStore:
    """The real store, whose first ``record_deliveries`` waits until the test opens the gate: the
    callbacks submitted meanwhile then form one batch (the committer takes everything queued)."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.batch_sizes: list[int] = []

    def record_deliveries(self, records: list[DeliveryRecord]) -> list[MessageStatus | None]:
        if not self.batch_sizes:
            self.entered.set()
            assert self.gate.wait(timeout=30)
        self.batch_sizes.append(len(records))
        return self.store.record_deliveries(records)


@pytest.mark.parametrize("bad_position", [0, 3])
def test_a_bad_callback_in_a_batch_loses_none_of_the_others(store: MessageStore, bad_position: int) -> None:
    """A callback the database refuses (no channel: NOT NULL) fails alone; the batch's others are stored."""
    mids = [f"OK{i}" for i in range(6)]
    for mid in mids:
        _sent(store, mid, channels=("sms",))
    records = [rec(mid, ev("sms", S.DELIVERED, 1, "3000")) for mid in mids]
    bad = rec("OK0", ChannelEvent(None, S.DELIVERED, "x", "x", None, T0), body="the bad one")  # type: ignore[arg-type]
    records.insert(bad_position, bad)
    gated = _GatedStore(store)
    batcher = CommitBatcher(gated, linger=0)  # type: ignore[arg-type]

    async def main() -> list[Any]:
        first = batcher.submit_async(rec("OK5", ev("sms", S.SENT, 0)))  # holds the committer at the gate
        assert await asyncio.to_thread(gated.entered.wait, 30)
        rest = [batcher.submit_async(r) for r in records]
        gated.gate.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    try:
        answers = asyncio.run(asyncio.wait_for(main(), 60))[1:]
    finally:
        batcher.close()
    assert gated.batch_sizes[:2] == [1, len(records)]  # the bad callback was in one batch with the others ...
    for record, answer in zip(records, answers, strict=True):
        if record is bad:
            assert isinstance(answer, StoreUnavailableError)  # ... it alone failed (answered 503)
        else:
            assert isinstance(answer, MessageStatus) and answer.state is S.DELIVERED
    for mid in mids:
        status = store.get_status(mid)
        assert status is not None and status.complete and status.state is S.DELIVERED
    assert "the bad one" not in _bodies(store, "OK0")  # never half-stored
    assert store.count("callbacks") == len(mids) + 1  # the 6 good ones and the gate's


def test_a_batch_completing_some_messages_and_not_others_records_each_completion(store: MessageStore) -> None:
    """The first message of the batch stays in progress, the next ones complete: each gets its completed_at.

    (Per-row writes once took the UPDATE's columns from the batch's first row and dropped the others'
    completed_at.)
    """
    for mid in ("PENDING", "DONE", "DONE-LATER"):
        _sent(store, mid, channels=("sms",))
    store.record_deliveries([rec("DONE-LATER", ev("sms", S.DELIVERED, 1))])
    first_completion = store.get_status("DONE-LATER")
    assert first_completion is not None and first_completion.completed_at is not None
    store.record_deliveries(
        [
            rec("PENDING", ev("sms", S.SENT, 1)),
            rec("DONE", ev("sms", S.DELIVERED, 2)),
            rec("DONE-LATER", ev("sms", S.READ, 3)),  # already complete: its completed_at stays
        ]
    )
    pending, done, later = (store.get_status(mid) for mid in ("PENDING", "DONE", "DONE-LATER"))
    assert pending is not None and not pending.complete and pending.completed_at is None
    assert done is not None and done.complete and done.completed_at is not None
    assert later is not None and later.state is S.READ and later.completed_at == first_completion.completed_at
