"""Store shortcuts that only tests use: one-item forms of the store's batch methods, and internal reads.

The production :class:`MessageStore` has only the batch methods its callers use (``complete_many``,
``fail_many``, ``record_deliveries``); these wrap them exactly as the removed one-item methods did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from airflow_provider_messaging.models.status import ChannelEvent, MessageStatus
from airflow_provider_messaging.store import DeliveryRecord, MessageStore
from airflow_provider_messaging.store.schema import watcher_cursors


def complete_send(store: MessageStore, idempotency_key: str, message_id: str) -> MessageStatus:
    """Record the vendor's id of one reserved send (callbacks that came first are reconciled)."""
    return store.complete_many([(idempotency_key, message_id)])[idempotency_key]


def fail_send(store: MessageStore, idempotency_key: str, error: str, *, outcome_unknown: bool) -> None:
    """Record one failed send: REJECTED (safe to retry) or UNKNOWN (never re-sent blindly)."""
    store.fail_many([(idempotency_key, error, outcome_unknown)])


def record_delivery(
    store: MessageStore, *, vendor: str, message_id: str, events: Sequence[ChannelEvent], raw_body: str
) -> MessageStatus | None:
    """Store one delivery callback (a group commit of one); None while the send is not recorded yet."""
    return store.record_deliveries([DeliveryRecord(vendor, message_id, tuple(events), raw_body)])[0]


def watcher_cursor(store: MessageStore, watcher: str) -> dict[str, Any] | None:
    """A watcher's cursor row (``last_inbound_id``, ``events``), or None before its first poll."""
    with store.read_engine.connect() as connection:
        row = connection.execute(select(watcher_cursors).where(watcher_cursors.c.watcher == watcher)).first()
    return dict(row._mapping) if row else None
