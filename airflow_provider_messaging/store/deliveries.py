"""Delivery callbacks: the receiver's group commit, and the summary of a message from its channel attempts.

Every callback body is kept (``messaging_callbacks``); its channel events update the message's attempts
monotonically (an older or weaker event never overwrites a newer one) and then the message's summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from airflow_provider_messaging.models.status import (
    RANK,
    ChannelAttempt,
    DeliveryState,
    MessageStatus,
    Summary,
    order_attempts,
    summarize,
    supersedes,
)
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.locking import message_key
from airflow_provider_messaging.store.records import DeliveryRecord
from airflow_provider_messaging.store.rows import attempt_from_row, sha256, status_from_row, utcnow
from airflow_provider_messaging.store.schema import callbacks, channel_attempts, messages

# Statements of the callback path, built once: building a statement per call (``.values(...)``,
# ``.where(...)``) costs more CPU than executing it. Parameters are passed at execution time.
_INSERT_CALLBACK = insert(callbacks)
_INSERT_ATTEMPT = insert(channel_attempts)
_SELECT_ATTEMPTS = select(channel_attempts).where(
    and_(channel_attempts.c.vendor == bindparam("b_vendor"), channel_attempts.c.message_id == bindparam("b_message_id"))
)
_UPDATE_ATTEMPT = update(channel_attempts).where(
    and_(
        channel_attempts.c.vendor == bindparam("b_vendor"),
        channel_attempts.c.message_id == bindparam("b_message_id"),
        channel_attempts.c.channel == bindparam("b_channel"),
    )
)
_SELECT_MESSAGE = select(messages).where(
    and_(messages.c.vendor == bindparam("b_vendor"), messages.c.message_id == bindparam("b_message_id"))
)
_UPDATE_MESSAGE = update(messages).where(messages.c.id == bindparam("b_id"))
# by vendor AND message id: the unique index (vendor, message_id, channel) serves it; message_id alone
# has no index of its own on attempts, so filtering on it scans the whole table on every batch
_SELECT_ATTEMPTS_MANY = select(channel_attempts).where(
    and_(
        channel_attempts.c.vendor == bindparam("b_vendor"),
        channel_attempts.c.message_id.in_(bindparam("ids", expanding=True)),
    )
)
_SELECT_MESSAGES_MANY = select(messages).where(messages.c.message_id.in_(bindparam("ids", expanding=True)))


class DeliveriesPart(StoreBase):
    """Delivery callbacks (the group commit of the receiver)."""

    def record_deliveries(self, records: Sequence[DeliveryRecord]) -> list[MessageStatus | None]:
        """Store many delivery callbacks in ONE transaction (group commit), in order.

        The receiver batches concurrent callbacks here so that one commit (one fsync) serves many of
        them; each is answered only after this returns. A constant number of statements per batch:
        lock every message (sorted, so concurrent batches cannot deadlock), insert the raw bodies,
        read and write the attempts and summaries of all messages at once.
        """
        if not records:
            return []
        now = utcnow()
        keys = sorted({(r.vendor, r.message_id) for r in records})
        ids = sorted({r.message_id for r in records})
        ids_by_vendor: dict[str, list[str]] = {}
        for vendor, message_id in keys:
            ids_by_vendor.setdefault(vendor, []).append(message_id)
        with self._write() as connection:
            self._lock(connection, *(message_key(v, m) for v, m in keys))
            connection.execute(
                _INSERT_CALLBACK,
                [
                    {
                        "vendor": r.vendor,
                        "kind": "status",
                        "message_id": r.message_id,
                        "body": r.raw_body,
                        "body_sha256": sha256(r.raw_body),
                        "received_at": now,
                    }
                    for r in records
                ],
            )
            stored: dict[tuple[str, str], dict[str, ChannelAttempt]] = {key: {} for key in keys}
            for vendor, vendor_ids in ids_by_vendor.items():
                for row in connection.execute(_SELECT_ATTEMPTS_MANY, {"b_vendor": vendor, "ids": vendor_ids}):
                    stored[(row.vendor, row.message_id)][row.channel] = attempt_from_row(row._mapping)
            inserts: dict[tuple[str, str, str], dict[str, Any]] = {}
            updates: dict[tuple[str, str, str], dict[str, Any]] = {}
            for record in records:
                current = stored[(record.vendor, record.message_id)]
                for event in record.events:
                    old = current.get(event.channel)
                    if old is not None and not supersedes(event.state, event.occurred_at, old.state, old.updated_on):
                        continue
                    values = {
                        "state": event.state.value,
                        "code": event.code,
                        "description": event.description,
                        "channel_reference_id": event.channel_reference_id,
                        "updated_on": event.occurred_at,
                        "updated_at": now,
                    }
                    key = (record.vendor, record.message_id, event.channel)
                    if key in inserts:
                        inserts[key].update(values)
                    elif old is None:
                        inserts[key] = {
                            "vendor": record.vendor,
                            "message_id": record.message_id,
                            "channel": event.channel,
                            "created_at": now,
                            **values,
                        }
                    else:
                        updates[key] = {
                            "b_vendor": record.vendor,
                            "b_message_id": record.message_id,
                            "b_channel": event.channel,
                            **values,
                        }
                    current[event.channel] = ChannelAttempt(
                        event.channel,
                        event.state,
                        event.code,
                        event.description,
                        event.channel_reference_id,
                        event.occurred_at,
                    )
            if inserts:
                connection.execute(_INSERT_ATTEMPT, list(inserts.values()))
            if updates:
                connection.execute(_UPDATE_ATTEMPT, list(updates.values()))
            statuses: dict[tuple[str, str], MessageStatus] = {}
            message_updates: list[dict[str, Any]] = []
            for row in connection.execute(_SELECT_MESSAGES_MANY, {"ids": ids}):
                found = (row.vendor, row.message_id)
                if found not in stored:
                    continue
                mapping = dict(row._mapping)
                changes = summary_changes(mapping, stored[found], now)
                if changes:
                    message_updates.append({"b_id": mapping["id"], **changes})
                    mapping.update(changes)
                statuses[found] = status_from_row(mapping)
            if message_updates:
                connection.execute(_UPDATE_MESSAGE, message_updates)
        return [statuses.get((r.vendor, r.message_id)) for r in records]


def summary_changes(mapping: dict[str, Any], attempts: dict[str, ChannelAttempt], now: datetime) -> dict[str, Any]:
    """Column changes of a message row whose attempts are ``attempts`` (empty when nothing changes)."""
    cascade = list(mapping["channels"] or [])
    summary = summarize(cascade, attempts)
    previous = DeliveryState(mapping["state"])
    if not summary.complete and RANK[summary.state] < RANK[previous]:
        # a first channel failing while the fallback runs must not move the message backwards
        summary = Summary(previous, False, None)
    changes: dict[str, Any] = {
        "state": summary.state.value,
        "complete": summary.complete,
        "delivered_channel": summary.delivered_channel,
        "attempts": [a.to_dict() for a in order_attempts(cascade, attempts.values())],
    }
    if summary.complete and mapping["completed_at"] is None:
        changes["completed_at"] = now
    if all(mapping.get(k) == v for k, v in changes.items()):
        return {}
    changes["updated_at"] = now
    return changes


def _load_attempts(connection: Connection, vendor: str, message_id: str) -> dict[str, ChannelAttempt]:
    rows = connection.execute(_SELECT_ATTEMPTS, {"b_vendor": vendor, "b_message_id": message_id}).all()
    return {row.channel: attempt_from_row(row._mapping) for row in rows}


def refresh_summary(connection: Connection, vendor: str, message_id: str, now: datetime) -> MessageStatus | None:
    """Recompute a message's summary from its attempts (the caller holds the message's lock)."""
    row = connection.execute(_SELECT_MESSAGE, {"b_vendor": vendor, "b_message_id": message_id}).first()
    if row is None:
        return None
    mapping = dict(row._mapping)
    changes = summary_changes(mapping, _load_attempts(connection, vendor, message_id), now)
    if changes:
        connection.execute(_UPDATE_MESSAGE, {"b_id": mapping["id"], **changes})
        mapping.update(changes)
    return status_from_row(mapping)
