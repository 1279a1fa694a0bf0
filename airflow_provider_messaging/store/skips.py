"""Sends the sending policy held back: SKIPPED rows (``error`` is "code: reason"), never blocking a later try."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from airflow_provider_messaging.models.status import DeliveryState
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.locking import send_key
from airflow_provider_messaging.store.records import SKIP_OVERWRITES, SendIntent, SendStatus, skip_error
from airflow_provider_messaging.store.rows import rows_by_key, utcnow
from airflow_provider_messaging.store.schema import messages


def skip_values(intent: SendIntent, error: str, now: datetime) -> dict[str, Any]:
    return {
        "vendor": intent.vendor,
        "message_id": None,
        "idempotency_key": intent.idempotency_key,
        "recipient": intent.recipient,
        "channels": list(intent.channels),
        "send_status": SendStatus.SKIPPED,
        "state": DeliveryState.QUEUED.value,
        "complete": False,
        "delivered_channel": None,
        "attempts": None,
        "dag_id": intent.dag_id,
        "task_id": intent.task_id,
        "run_id": intent.run_id,
        "map_index": intent.map_index,
        "campaign_id": intent.campaign_id,
        "message_type": intent.message_type,
        "created_at": now,
        "updated_at": now,
        "completed_at": None,
        "error": error,
    }


def write_skip(connection: Connection, own: Mapping[str, Any] | None, values: dict[str, Any]) -> bool:
    """Record a policy skip of a key, unless the key's row says more (accepted, in flight, unknown)."""
    if own is None:
        connection.execute(insert(messages).values(**values))
        return True
    if own["send_status"] not in SKIP_OVERWRITES:
        return False
    values = {k: v for k, v in values.items() if k not in ("created_at", "logical_key", "attempt")}
    connection.execute(update(messages).where(messages.c.id == own["id"]).values(**values))
    return True


class SkipsPart(StoreBase):
    """Policy skips, recorded under the key's lock like a reservation."""

    def record_skips(self, skips: Sequence[tuple[SendIntent, str, str]]) -> int:
        """:meth:`record_skip` for many ``(intent, code, reason)`` in ONE transaction (bulk sends); a key
        listed twice is recorded once (its last reason). Returns how many skips were written."""
        by_key = {intent.idempotency_key: (intent, code, reason) for intent, code, reason in skips}
        if not by_key:
            return 0
        now = utcnow()
        written = 0
        with self._write() as connection:
            self._lock(connection, *map(send_key, by_key))
            existing = rows_by_key(connection, list(by_key))
            for key, (intent, code, reason) in by_key.items():
                values = skip_values(intent, skip_error(code, reason), now)
                written += write_skip(connection, existing.get(key), values)
        return written

    def record_skip(
        self, intent: SendIntent, *, code: str, reason: str, logical_key: str | None = None, attempt: int | None = None
    ) -> bool:
        """Record that the sending policy skipped ``intent`` (a SKIPPED row; ``error`` is "code: reason"),
        under the key's lock like a reservation. A key already accepted, in flight or with an unknown
        outcome keeps its row. Returns whether the skip was written."""
        values = skip_values(intent, skip_error(code, reason), utcnow())
        if logical_key is not None:
            values.update(logical_key=logical_key, attempt=attempt)
        with self._write() as connection:
            self._lock(connection, send_key(logical_key or intent.idempotency_key))
            own = connection.execute(
                select(messages).where(messages.c.idempotency_key == intent.idempotency_key)
            ).first()
            return write_skip(connection, dict(own._mapping) if own else None, values)
