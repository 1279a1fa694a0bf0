"""Tables of the message store (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these.

Table names carry a ``messaging_`` prefix and the Alembic version table is our own, so the store can
share a database with Airflow's metadata without clashing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

VERSION_TABLE = "messaging_alembic_version"


def max_length(*columns: Column[Any]) -> int:
    """The longest string that fits in every one of these ``String`` columns (the narrowest width).

    PostgreSQL refuses a longer value (SQLite takes it): whoever writes a value into these columns -
    e.g. the receiver, for a vendor's callback - checks it against this first.
    """
    widths = [c.type.length for c in columns if isinstance(c.type, String) and c.type.length]
    if not widths or len(widths) != len(columns):
        raise ValueError(f"not String columns of a fixed width: {', '.join(str(c) for c in columns)}")
    return min(widths)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData()

messages = Table(
    "messaging_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", String(20), nullable=False),
    Column("message_id", String(64), nullable=True),
    Column("idempotency_key", String(512), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("send_status", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    Column("delivered_channel", String(20), nullable=True),
    Column("attempts", JSON, nullable=True),
    Column("dag_id", String(250), nullable=True),
    Column("task_id", String(250), nullable=True),
    Column("run_id", String(250), nullable=True),
    Column("map_index", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    # 0002: a failover send's vendor messages share the logical (parent) key; ``attempt`` is the step rank
    Column("logical_key", String(512), nullable=True),
    Column("attempt", Integer, nullable=True),
    # 0003: the messages of one bulk send / campaign (its handle names it; the sensor counts by it)
    Column("campaign_id", String(250), nullable=True),
    # 0004: the message type / category a sending policy's frequency caps count by
    Column("message_type", String(32), nullable=True),
    UniqueConstraint("idempotency_key", name="uq_messaging_messages_idempotency_key"),
    UniqueConstraint("vendor", "message_id", name="uq_messaging_messages_vendor_message_id"),
    Index("ix_messaging_messages_message_id", "message_id"),
    Index("ix_messaging_messages_created_at", "created_at"),
    Index("ix_messaging_messages_logical_key", "logical_key"),
    Index("ix_messaging_messages_campaign_id", "campaign_id"),
    Index("ix_messaging_messages_recipient_created", "recipient", "created_at"),  # 0004: frequency caps
)

channel_attempts = Table(
    "messaging_channel_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", String(20), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("state", String(16), nullable=False),
    Column("code", String(32), nullable=True),
    Column("description", Text, nullable=True),
    Column("channel_reference_id", String(64), nullable=True),
    Column("updated_on", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("vendor", "message_id", "channel", name="uq_messaging_attempts_message_channel"),
)

callbacks = Table(
    "messaging_callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", String(20), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message_id", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_messaging_callbacks_message_id", "message_id"),
)

inbound_messages = Table(
    "messaging_inbound",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("sender", String(320), nullable=False),
    Column("recipient", String(64), nullable=True),
    Column("text", Text, nullable=True),
    Column("media", JSON, nullable=True),
    Column("action", String(16), nullable=True),
    Column("keyword", String(64), nullable=True),
    Column("postback", Text, nullable=True),
    Column("reference_id", String(64), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("callback_id", Integer, nullable=True),
    Column("body_sha256", String(64), nullable=False),
    UniqueConstraint("vendor", "body_sha256", name="uq_messaging_inbound_body"),
    Index("ix_messaging_inbound_sender", "sender", "id"),
)

opt_outs = Table(
    "messaging_opt_outs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("source", String(32), nullable=False),
    Column("keyword", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("vendor", "recipient", name="uq_messaging_opt_outs_vendor_recipient"),
)

# 0002: the highest inbound id each asset watcher (InboundMessageEventTrigger) has claimed
watcher_cursors = Table(
    "messaging_watcher_cursors",
    metadata,
    Column("watcher", String(250), primary_key=True),
    Column("last_inbound_id", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# 0004: every opt-out / opt-in, with when, how and what it referred to (the opt-out list is the current state)
consent_events = Table(
    "messaging_consent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("action", String(16), nullable=False),  # opt_out | opt_in
    Column("method", String(32), nullable=False),  # keyword | api | ui | cli | vendor_error | import
    Column("keyword", String(64), nullable=True),
    Column("consent_text", Text, nullable=True),
    Column("campaign", String(250), nullable=True),
    Column("detail", Text, nullable=True),
    Column("inbound_id", Integer, nullable=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_messaging_consent_recipient", "vendor", "recipient", "id"),
)
