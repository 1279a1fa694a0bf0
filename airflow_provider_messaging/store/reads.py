"""Reads of sent messages for the trigger, the sensors, the CLI, the Messages view and the report."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from airflow_provider_messaging.models.status import MessageStatus
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.failover import by_requested_id
from airflow_provider_messaging.store.rows import status_from_row
from airflow_provider_messaging.store.schema import (
    callbacks,
    channel_attempts,
    consent_events,
    inbound_messages,
    messages,
    opt_outs,
    watcher_cursors,
)


class ReadsPart(StoreBase):
    """Message statuses (one, many, the settled ones), failover histories, listings and counts."""

    def get_status(self, message_id: str, vendor: str | None = None) -> MessageStatus | None:
        """The status of one message by vendor id (or idempotency key), or None if unknown."""
        query = select(messages).where(
            (messages.c.message_id == message_id) | (messages.c.idempotency_key == message_id)
        )
        if vendor:
            query = query.where(messages.c.vendor == vendor)
        with self._read() as connection:
            row = connection.execute(query.limit(1)).first()
        return status_from_row(row._mapping) if row else None

    def get_statuses(self, message_ids: Iterable[str]) -> dict[str, MessageStatus]:
        """Statuses of many messages in ONE query (the batched read of the delivery trigger).

        An id may also be the logical key of a failover send: it maps to the status of its vendor
        messages taken together (see :func:`logical_status`).
        """
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        query = select(messages).where(messages.c.message_id.in_(ids) | messages.c.logical_key.in_(ids))
        with self._read() as connection:
            rows = connection.execute(query).all()
        return by_requested_id(ids, rows, status_from_row)

    def get_settled(self, message_ids: Iterable[str], success_states: Iterable[str]) -> dict[str, MessageStatus]:
        """Of these messages, the ones whose wait is over: complete, or in one of ``success_states``.

        ONE query; the database filters, so a poll over 10,000 pending messages returns only the
        few that changed the outcome (the delivery trigger's hot path). Logical keys of failover sends
        are resolved too (their few vendor rows are all read, then combined).
        """
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        states = list(success_states)
        query = select(messages).where(
            (messages.c.message_id.in_(ids) & ((messages.c.complete.is_(True)) | (messages.c.state.in_(states))))
            | messages.c.logical_key.in_(ids)
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        found = by_requested_id(ids, rows, status_from_row)
        return {k: v for k, v in found.items() if v.complete or v.state.value in states}

    def logical_history(self, logical_key: str) -> list[dict[str, Any]]:
        """Every vendor attempt of one failover send, in the order tried (vendor, key, send status, state, error)."""
        query = select(messages).where(messages.c.logical_key == logical_key).order_by(messages.c.attempt)
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "attempt": r.attempt,
                "vendor": r.vendor,
                "idempotency_key": r.idempotency_key,
                "message_id": r.message_id,
                "send_status": r.send_status,
                "state": r.state,
                "complete": bool(r.complete),
                "delivered_channel": r.delivered_channel,
                "channels": list(r.channels or []),
                "error": r.error,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]

    def messages_between(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """Every message row created in ``[since, until)`` with its attempts (analytics input), oldest first."""
        query = select(messages).order_by(messages.c.id)
        if since is not None:
            query = query.where(messages.c.created_at >= since)
        if until is not None:
            query = query.where(messages.c.created_at < until)
        with self._read() as connection:
            return [dict(r._mapping) for r in connection.execute(query).all()]

    def list_messages(
        self,
        *,
        vendor: str | None = None,
        state: str | None = None,
        dag_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[MessageStatus]:
        query = select(messages).order_by(messages.c.id.desc()).limit(limit)
        if vendor:
            query = query.where(messages.c.vendor == vendor)
        if state:
            query = query.where(messages.c.state == state)
        if dag_id:
            query = query.where(messages.c.dag_id == dag_id)
        if since:
            query = query.where(messages.c.created_at >= since)
        if until:
            query = query.where(messages.c.created_at < until)
        with self._read() as connection:
            return [status_from_row(r._mapping) for r in connection.execute(query).all()]

    def callbacks_for(self, message_id: str) -> list[dict[str, Any]]:
        """Every raw callback stored for a message id, oldest first."""
        with self._read() as connection:
            rows = connection.execute(
                select(callbacks).where(callbacks.c.message_id == message_id).order_by(callbacks.c.id)
            ).all()
        return [
            {
                "id": r.id,
                "vendor": r.vendor,
                "kind": r.kind,
                "received_at": r.received_at.isoformat(),
                "body": r.body,
            }
            for r in rows
        ]

    def count(self, table: str) -> int:
        """Row count of one store table (``messages``, ``callbacks``, ``inbound``, ...); for checks and CLI."""
        tables = {
            "messages": messages,
            "attempts": channel_attempts,
            "callbacks": callbacks,
            "inbound": inbound_messages,
            "opt_outs": opt_outs,
            "watcher_cursors": watcher_cursors,
            "consent": consent_events,
        }
        with self._read() as connection:
            return int(connection.execute(select(func.count()).select_from(tables[table])).scalar_one())
