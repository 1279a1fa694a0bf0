"""The callback path reads through indexes: a full table scan per batch makes ingest slow down as the store grows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import event

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.store import DeliveryRecord, MessageStore
from tests.support.store_helpers import complete_send

T0 = datetime(2020, 5, 4, 22, 0, tzinfo=timezone.utc)


def _sent(store: MessageStore, vendor: str, mid: str) -> None:
    key = f"dag/task/run/{vendor}/{mid}"
    assert store.reserve_send(idempotency_key=key, vendor=vendor, recipient="15558675309", channels=["rcs", "sms"]).send
    complete_send(store, key, mid)


def _record(vendor: str, mid: str, state: DeliveryState, channel: str = "sms") -> DeliveryRecord:
    return DeliveryRecord(vendor, mid, (ChannelEvent(channel, state, "c", None, None, T0),), "{}")


def assert_no_table_scan(store: MessageStore, work: Callable[[], object]) -> None:
    """Run ``work`` and check the SQLite plan of every SELECT it issued: no full scan of a store table."""
    selects: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)

    assert selects
    with store.engine.connect() as connection:
        for statement, parameters in selects:
            plan = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            assert not any(step.startswith("SCAN messaging_") for step in plan), (statement, plan)


def test_record_deliveries_never_scans_a_whole_table(sqlite_store: MessageStore) -> None:
    store = sqlite_store
    for i in range(20):
        _sent(store, "telesign", f"T{i}")
        _sent(store, "aerialink", f"A{i}")
    store.record_deliveries([_record("telesign", f"T{i}", DeliveryState.SENT) for i in range(20)])

    assert_no_table_scan(
        store,
        lambda: store.record_deliveries(
            [_record("telesign", "T1", DeliveryState.DELIVERED), _record("aerialink", "A2", DeliveryState.DELIVERED)]
        ),
    )


def test_one_batch_with_the_same_message_id_at_two_vendors_keeps_them_apart(store: MessageStore) -> None:
    _sent(store, "telesign", "SAME")
    _sent(store, "aerialink", "SAME")
    results = store.record_deliveries(
        [
            _record("telesign", "SAME", DeliveryState.FAILED, "rcs"),
            _record("aerialink", "SAME", DeliveryState.DELIVERED, "rcs"),
            _record("telesign", "SAME", DeliveryState.DELIVERED, "sms"),
        ]
    )
    assert [(r.vendor, r.state, r.delivered_channel) for r in results if r is not None] == [
        ("telesign", DeliveryState.DELIVERED, "sms"),
        ("aerialink", DeliveryState.DELIVERED, "rcs"),
        ("telesign", DeliveryState.DELIVERED, "sms"),
    ]
    telesign = store.get_status("SAME", vendor="telesign")
    aerialink = store.get_status("SAME", vendor="aerialink")
    assert telesign is not None and aerialink is not None
    assert {a.channel: a.state for a in telesign.attempts} == {
        "rcs": DeliveryState.FAILED,
        "sms": DeliveryState.DELIVERED,
    }
    assert {a.channel: a.state for a in aerialink.attempts} == {"rcs": DeliveryState.DELIVERED}


def test_completing_a_batch_of_sends_never_scans_a_whole_table(sqlite_store: MessageStore) -> None:
    """The send ledger's batched completion (complete_many) looks for early callbacks through the index too."""
    from airflow_provider_messaging.store import SendIntent

    store = sqlite_store
    for i in range(20):
        _sent(store, "telesign", f"T{i}")
    store.record_deliveries([_record("telesign", f"T{i}", DeliveryState.SENT) for i in range(20)])
    store.reserve_many([SendIntent(f"bulk/{i}", "telesign", f"1555000000{i}", ("sms",)) for i in range(5)])

    assert_no_table_scan(store, lambda: store.complete_many([(f"bulk/{i}", f"B{i}") for i in range(5)]))
