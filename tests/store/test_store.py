"""The store on SQLite and on a real PostgreSQL: idempotency, monotonic callbacks, reconciliation, opt-outs."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.store import MessageStore, NewInbound, SendStatus
from airflow_provider_messaging.store.schema import VERSION_TABLE, metadata
from tests.support.store_helpers import complete_send, fail_send, record_delivery

T0 = datetime(2020, 5, 4, 22, 0, tzinfo=timezone.utc)


def _sent(store: MessageStore, key: str = "dag/task/run/-1", mid: str = "REF1", channels=("rcs", "sms")) -> None:
    assert store.reserve_send(idempotency_key=key, vendor="telesign", recipient="15558675309", channels=channels).send
    complete_send(store, key, mid)


def ev(channel: str, state: DeliveryState, code: str, seconds: int = 0) -> ChannelEvent:
    return ChannelEvent(channel, state, code, f"desc {code}", f"{channel}-ref", T0 + timedelta(seconds=seconds))


def test_migration_creates_exactly_the_declared_schema(store: MessageStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        diff = [d for d in compare_metadata(context, metadata) if d[0] != "remove_table"]
    assert diff == []
    assert store.schema_is_current()
    store.upgrade()  # idempotent
    assert store.schema_is_current()


def test_reservation_is_returned_instead_of_a_second_send(store: MessageStore) -> None:
    _sent(store)
    again = store.reserve_send(
        idempotency_key="dag/task/run/-1", vendor="telesign", recipient="15558675309", channels=["rcs", "sms"]
    )
    assert again.send is False
    assert again.existing is not None
    assert again.existing.message_id == "REF1"
    assert again.existing.send_status == SendStatus.ACCEPTED


def test_rejected_send_may_be_retried_but_unknown_outcome_may_not(store: MessageStore) -> None:
    kwargs = {"vendor": "telesign", "recipient": "15558675309", "channels": ["sms"]}
    assert store.reserve_send(idempotency_key="a", **kwargs).send
    fail_send(store, "a", "HTTP 400 invalid", outcome_unknown=False)
    assert store.reserve_send(idempotency_key="a", **kwargs).send

    assert store.reserve_send(idempotency_key="b", **kwargs).send
    fail_send(store, "b", "read timeout", outcome_unknown=True)
    blocked = store.reserve_send(idempotency_key="b", **kwargs)
    assert blocked.send is False
    assert blocked.existing is not None and blocked.existing.send_status == SendStatus.UNKNOWN
    assert store.reserve_send(idempotency_key="b", resend_unknown=True, **kwargs).send


def test_crash_between_reserve_and_record_counts_as_unknown(store: MessageStore) -> None:
    kwargs = {"vendor": "telesign", "recipient": "15558675309", "channels": ["sms"]}
    assert store.reserve_send(idempotency_key="c", **kwargs).send
    # the worker died before recording anything: the next try must not send blindly
    second = store.reserve_send(idempotency_key="c", **kwargs)
    assert second.send is False and second.existing is not None
    assert second.existing.send_status == SendStatus.RESERVED


def test_vendor_doc_cascade_rcs_timeout_then_sms_delivered(store: MessageStore) -> None:
    _sent(store)
    status = record_delivery(
        store,
        vendor="telesign",
        message_id="REF1",
        events=[ev("rcs", DeliveryState.EXPIRED, "3056"), ev("sms", DeliveryState.DELIVERED, "3000", 120)],
        raw_body='{"x": 1}',
    )
    assert status is not None
    assert status.complete and status.state is DeliveryState.DELIVERED
    assert status.delivered_channel == "sms" and status.fallback_used
    assert [a.channel for a in status.attempts] == ["rcs", "sms"]
    assert status.attempts[0].code == "3056"
    assert store.count("attempts") == 2 and store.count("callbacks") == 1


def test_duplicates_and_out_of_order_never_move_backwards(store: MessageStore) -> None:
    _sent(store)
    final = [ev("rcs", DeliveryState.EXPIRED, "3056", 60), ev("sms", DeliveryState.DELIVERED, "3000", 120)]
    early = [ev("rcs", DeliveryState.QUEUED, "3001", 1)]
    for events in (final, early, final, [ev("sms", DeliveryState.SENT, "3002", 100)]):
        record_delivery(store, vendor="telesign", message_id="REF1", events=events, raw_body="{}")
    status = store.get_status("REF1")
    assert status is not None and status.state is DeliveryState.DELIVERED
    assert {a.channel: a.state for a in status.attempts} == {
        "rcs": DeliveryState.EXPIRED,
        "sms": DeliveryState.DELIVERED,
    }
    assert store.count("callbacks") == 4  # every raw callback is kept


def test_all_channels_failed_completes_as_failed(store: MessageStore) -> None:
    _sent(store)
    record_delivery(
        store, vendor="telesign", message_id="REF1", events=[ev("rcs", DeliveryState.FAILED, "3003")], raw_body="{}"
    )
    assert not store.get_status("REF1").complete  # type: ignore[union-attr]
    record_delivery(
        store,
        vendor="telesign",
        message_id="REF1",
        events=[ev("sms", DeliveryState.FAILED, "3003", 5)],
        raw_body="{}",
    )
    status = store.get_status("REF1")
    assert status is not None and status.complete and status.state is DeliveryState.FAILED
    assert status.failure_reasons() == ["rcs: FAILED (3003 desc 3003)", "sms: FAILED (3003 desc 3003)"]


def test_unknown_code_is_kept_raw_and_not_final(store: MessageStore) -> None:
    _sent(store)
    status = record_delivery(
        store, vendor="telesign", message_id="REF1", events=[ev("rcs", DeliveryState.UNKNOWN, "9999")], raw_body="{}"
    )
    assert status is not None and not status.complete
    assert status.attempts[0].code == "9999"


def test_callback_before_send_is_reconciled(store: MessageStore) -> None:
    orphan = record_delivery(
        store,
        vendor="telesign",
        message_id="EARLY",
        events=[ev("rcs", DeliveryState.DELIVERED, "3000")],
        raw_body="{}",
    )
    assert orphan is None
    assert store.reserve_send(idempotency_key="k", vendor="telesign", recipient="1555", channels=["rcs"]).send
    status = complete_send(store, "k", "EARLY")
    assert status.complete and status.delivered_channel == "rcs"


def test_batched_read_returns_many_in_one_call(store: MessageStore) -> None:
    for i in range(50):
        _sent(store, key=f"k{i}", mid=f"M{i}")
    record_delivery(
        store, vendor="telesign", message_id="M7", events=[ev("rcs", DeliveryState.DELIVERED, "3000")], raw_body="{}"
    )
    statuses = store.get_statuses([f"M{i}" for i in range(50)] + ["missing"])
    assert len(statuses) == 50
    assert statuses["M7"].complete and not statuses["M8"].complete


def test_concurrent_writers_lose_no_update(store: MessageStore) -> None:
    """Two writers on one message (threads with their own connections): both channels end stored."""
    _sent(store)
    other = MessageStore(store.url)
    barrier = threading.Barrier(2)

    def write(s: MessageStore, event: ChannelEvent) -> None:
        barrier.wait()
        for _ in range(20):
            record_delivery(s, vendor="telesign", message_id="REF1", events=[event], raw_body="{}")

    threads = [
        threading.Thread(target=write, args=(store, ev("rcs", DeliveryState.EXPIRED, "3056"))),
        threading.Thread(target=write, args=(other, ev("sms", DeliveryState.DELIVERED, "3000", 9))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.dispose()
    status = store.get_status("REF1")
    assert status is not None and status.state is DeliveryState.DELIVERED
    assert {a.channel for a in status.attempts} == {"rcs", "sms"}
    assert store.count("callbacks") == 40


def test_stop_and_start_keywords_change_the_opt_out_list(store: MessageStore) -> None:
    stop = NewInbound(channel="rcs", sender="11234567890", text="Stop", action="stop", keyword="stop")
    record, created = store.record_inbound(vendor="telesign", raw_body='{"stop": 1}', inbound=stop)
    assert created and record.action == "stop"
    assert store.is_opted_out("telesign", "+1 123-456-7890")
    assert not store.is_opted_out("aerialink", "11234567890")
    # the vendor retries the same callback: not stored twice
    _, created_again = store.record_inbound(vendor="telesign", raw_body='{"stop": 1}', inbound=stop)
    assert not created_again and store.count("inbound") == 1
    start = NewInbound(channel="whatsapp", sender="11234567890", text="start", action="start", keyword="start")
    store.record_inbound(vendor="telesign", raw_body='{"start": 1}', inbound=start)
    assert not store.is_opted_out("telesign", "11234567890")


def test_cli_style_opt_out_management(store: MessageStore) -> None:
    assert store.add_opt_out("aerialink", "15551230000")
    assert not store.add_opt_out("aerialink", "+15551230000")
    assert [o["recipient"] for o in store.list_opt_outs()] == ["15551230000"]
    assert store.remove_opt_out("aerialink", "15551230000")
    assert not store.remove_opt_out("aerialink", "15551230000")


def test_find_inbound_filters(store: MessageStore) -> None:
    store.record_inbound(vendor="aerialink", raw_body="1", inbound=NewInbound("rcs", "15550001111", text="YES"))
    store.record_inbound(
        vendor="aerialink", raw_body="2", inbound=NewInbound("rcs", "15550001111", postback="yes_response")
    )
    store.record_inbound(vendor="aerialink", raw_body="3", inbound=NewInbound("rcs", "15550002222", text="no"))
    rows = store.find_inbound(sender="+1 555 000 1111")
    assert [r.text for r in rows] == ["YES", None]
    assert [r.postback for r in store.find_inbound(postback="yes_response")] == ["yes_response"]
    assert store.find_inbound(sender="15550001111", after_id=rows[1].id) == []
