"""Outcomes of the send ledger's tries: the vendor's id (completion), a failure, or an operator's release."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from airflow_provider_messaging.exceptions import StoreError
from airflow_provider_messaging.models.status import MessageStatus
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.deliveries import refresh_summary
from airflow_provider_messaging.store.locking import message_key, send_key
from airflow_provider_messaging.store.records import SendStatus
from airflow_provider_messaging.store.rows import rows_by_key, status_from_row, utcnow
from airflow_provider_messaging.store.schema import channel_attempts, messages

# By vendor AND message id: the unique (vendor, message_id, channel) index serves it (message_id alone scans).
_SELECT_ATTEMPTED_IDS = (
    select(channel_attempts.c.vendor, channel_attempts.c.message_id)
    .where(
        (channel_attempts.c.vendor == bindparam("b_vendor"))
        & channel_attempts.c.message_id.in_(bindparam("ids", expanding=True))
    )
    .distinct()
)
_COMPLETE = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        message_id=bindparam("b_message_id"),
        send_status=SendStatus.ACCEPTED,
        updated_at=bindparam("b_now", type_=messages.c.updated_at.type),
        error=None,
    )
)
# Only a send still in flight can fail: a key that another try completed meanwhile keeps its record.
FAIL = (
    update(messages)
    .where((messages.c.idempotency_key == bindparam("b_key")) & (messages.c.send_status == SendStatus.RESERVED))
    .values(
        send_status=bindparam("b_status"),
        error=bindparam("b_error"),
        updated_at=bindparam("b_now", type_=messages.c.updated_at.type),
    )
)


def failure_values(key: str, error: str, unknown: bool, now: datetime) -> dict[str, Any]:
    return {
        "b_key": key,
        "b_status": SendStatus.UNKNOWN if unknown else SendStatus.REJECTED,
        "b_error": error[:4000],
        "b_now": now,
    }


class SendsPart(StoreBase):
    """What became of a reserved send."""

    def complete_many(self, completions: Sequence[tuple[str, str]]) -> dict[str, MessageStatus]:
        """Record the vendor ids of many sends in ONE transaction; returns each key's status.

        Callbacks may arrive before the send is recorded (the receiver keeps them by vendor id): those
        messages are re-summarized here, under the same per-message locks the receiver takes.
        """
        if not completions:
            return {}
        now = utcnow()
        keys = [key for key, _ in completions]
        with self._write() as connection:
            rows = rows_by_key(connection, keys)
            missing = [key for key in keys if key not in rows]
            if missing:
                raise StoreError(f"no reservation for idempotency key {missing[0]!r}")
            ids = {key: message_id for key, message_id in completions}
            self._lock(connection, *{message_key(rows[key]["vendor"], mid) for key, mid in ids.items()})
            connection.execute(
                _COMPLETE,
                [{"b_id": rows[key]["id"], "b_message_id": mid, "b_now": now} for key, mid in ids.items()],
            )
            by_vendor: dict[str, set[str]] = {}
            for key, mid in ids.items():
                by_vendor.setdefault(rows[key]["vendor"], set()).add(mid)
            early = {
                (row.vendor, row.message_id)
                for vendor, mids in by_vendor.items()
                for row in connection.execute(_SELECT_ATTEMPTED_IDS, {"b_vendor": vendor, "ids": sorted(mids)}).all()
            }
            statuses: dict[str, MessageStatus] = {}
            for key, mid in ids.items():
                mapping = rows[key]
                mapping.update(message_id=mid, send_status=SendStatus.ACCEPTED, updated_at=now, error=None)
                refreshed = None
                if (mapping["vendor"], mid) in early:
                    refreshed = refresh_summary(connection, mapping["vendor"], mid, now)
                statuses[key] = refreshed or status_from_row(mapping)
        return statuses

    def fail_many(self, failures: Sequence[tuple[str, str, bool]]) -> None:
        """Record many failed sends (key, error, outcome_unknown) in ONE transaction."""
        if not failures:
            return
        now = utcnow()
        with self._write() as connection:
            connection.execute(FAIL, [failure_values(k, e, u, now) for k, e, u in failures])

    def release_send(self, idempotency_key: str, *, note: str) -> MessageStatus | None:
        """Mark a stuck key (RESERVED or UNKNOWN) as REJECTED so that its next try sends.

        For an operator of Airflow who checked with the vendor that nothing was sent; returns the
        status before the change, or None when the key is unknown. An ACCEPTED key is never released.
        """
        with self._write() as connection:
            self._lock(connection, send_key(idempotency_key))
            row = connection.execute(select(messages).where(messages.c.idempotency_key == idempotency_key)).first()
            if row is None:
                return None
            before = status_from_row(row._mapping)
            if row.send_status in (SendStatus.RESERVED, SendStatus.UNKNOWN):
                connection.execute(
                    update(messages)
                    .where(messages.c.id == row.id)
                    .values(send_status=SendStatus.REJECTED, error=f"released: {note}"[:4000], updated_at=utcnow())
                )
            return before
