"""The store's parts seen through the facade: the Messages view's inbound read, and the column widths
the receiver checks callbacks against (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, String, Text

from airflow_provider_messaging.receiver.parsing import storable_inbound
from airflow_provider_messaging.store import MessageStore, NewInbound, StoreError
from airflow_provider_messaging.store.schema import (
    callbacks,
    channel_attempts,
    inbound_messages,
    max_length,
    messages,
    opt_outs,
)


def _inbound(store: MessageStore, vendor: str, sender: str, text: str) -> int:
    record, _ = store.record_inbound(
        vendor=vendor, raw_body=f"{vendor}/{sender}/{text}", inbound=NewInbound(channel="sms", sender=sender, text=text)
    )
    return record.id


def test_latest_inbound_is_newest_first_and_filtered(store: MessageStore) -> None:
    first = _inbound(store, "telesign", "15550000001", "one")
    second = _inbound(store, "aerialink", "15550000001", "two")
    third = _inbound(store, "telesign", "15550000002", "three")
    fourth = _inbound(store, "telesign", "15550000001", "four")
    assert [r.id for r in store.latest_inbound()] == [fourth, third, second, first]
    assert [r.id for r in store.latest_inbound(limit=2)] == [fourth, third]
    assert [r.id for r in store.latest_inbound(vendor="telesign")] == [fourth, third, first]
    # the sender is normalised like the stored one (digits of a formatted number)
    assert [r.text for r in store.latest_inbound(vendor="telesign", sender="+1 555 000 0001")] == ["four", "one"]
    assert store.latest_inbound(vendor="telesign", sender="15559999999") == []
    # the sensors' read of the same rows stays oldest first
    assert [r.id for r in store.find_inbound(sender="15550000001")] == [first, second, fourth]


def test_an_unreachable_store_is_a_store_error_for_the_view() -> None:
    store = MessageStore("sqlite:////nonexistent-dir/for/sure/messaging.db")
    try:
        with pytest.raises(StoreError):
            store.latest_inbound()
    finally:
        store.dispose()


def test_max_length_is_the_narrowest_width_of_the_columns() -> None:
    assert max_length(messages.c.message_id) == 64
    assert max_length(inbound_messages.c.sender, opt_outs.c.recipient) == 320
    assert max_length(inbound_messages.c.sender, inbound_messages.c.recipient) == 64
    wide, narrow = Column("a", String(40)), Column("b", String(12))
    assert max_length(wide, narrow) == max_length(narrow, wide) == 12
    with pytest.raises(ValueError, match="fixed width"):
        max_length(callbacks.c.body)  # Text: no width
    with pytest.raises(ValueError, match="fixed width"):
        max_length(channel_attempts.c.code, Column("c", Text()))


def test_the_receiver_fits_callbacks_to_the_schema_widths(store: MessageStore) -> None:
    """What the receiver lets through is storable on PostgreSQL too (it refuses over-long values)."""
    sender_width = max_length(inbound_messages.c.sender, opt_outs.c.recipient)
    keyword_width = max_length(inbound_messages.c.keyword, opt_outs.c.keyword)
    parsed = storable_inbound(
        NewInbound(
            channel="sms",
            sender="x" * (sender_width + 10),
            recipient="1" * (max_length(inbound_messages.c.recipient) + 10),
            keyword="K" * (keyword_width + 10),
            action="stop",
            text="STOP",
        ),
        "Inbound",
    )
    assert (len(parsed.sender), len(parsed.keyword or "")) == (sender_width, keyword_width)
    record, created = store.record_inbound(vendor="telesign", raw_body="long", inbound=parsed)
    assert created and len(record.sender) == sender_width
    assert store.is_opted_out("telesign", record.sender)
