"""Between database rows and records: row -> record conversions and the few reads every part shares."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, select

from airflow_provider_messaging.models.status import ChannelAttempt, DeliveryState, MessageStatus
from airflow_provider_messaging.store.records import InboundRecord
from airflow_provider_messaging.store.schema import messages

_SELECT_BY_KEYS = select(messages).where(messages.c.idempotency_key.in_(bindparam("keys", expanding=True)))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def rows_by_key(connection: Connection, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The message rows of these idempotency keys (ONE query), by key; keys without a row are absent."""
    return {
        row.idempotency_key: dict(row._mapping) for row in connection.execute(_SELECT_BY_KEYS, {"keys": keys}).all()
    }


def status_from_row(row: Any) -> MessageStatus:
    """A ``messaging_messages`` row (its stored attempts included) as a :class:`MessageStatus`."""
    attempts = [
        ChannelAttempt(
            channel=a["channel"],
            state=DeliveryState(a["state"]),
            code=a.get("code"),
            description=a.get("description"),
            channel_reference_id=a.get("channel_reference_id"),
            updated_on=datetime.fromisoformat(a["updated_on"]) if a.get("updated_on") else None,
        )
        for a in (row["attempts"] or [])
    ]
    return MessageStatus(
        vendor=row["vendor"],
        message_id=row["message_id"] or "",
        state=DeliveryState(row["state"]),
        complete=bool(row["complete"]),
        delivered_channel=row["delivered_channel"],
        channels=list(row["channels"] or []),
        attempts=attempts,
        recipient=row["recipient"],
        idempotency_key=row["idempotency_key"],
        send_status=row["send_status"],
        error=row["error"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        dag_id=row["dag_id"],
        task_id=row["task_id"],
        run_id=row["run_id"],
    )


def attempt_from_row(row: Any) -> ChannelAttempt:
    """A ``messaging_channel_attempts`` row as a :class:`ChannelAttempt`."""
    return ChannelAttempt(
        channel=row["channel"],
        state=DeliveryState(row["state"]),
        code=row["code"],
        description=row["description"],
        channel_reference_id=row["channel_reference_id"],
        updated_on=row["updated_on"],
    )


def inbound_from_row(row: Any) -> InboundRecord:
    """A ``messaging_inbound`` row as an :class:`InboundRecord`."""
    return InboundRecord(
        id=row["id"],
        vendor=row["vendor"],
        channel=row["channel"],
        sender=row["sender"],
        recipient=row["recipient"],
        text=row["text"],
        media=list(row["media"] or []),
        action=row["action"],
        keyword=row["keyword"],
        postback=row["postback"],
        reference_id=row["reference_id"],
        received_at=row["received_at"],
        created_at=row["created_at"],
    )
