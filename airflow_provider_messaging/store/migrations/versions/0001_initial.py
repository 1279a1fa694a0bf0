"""Initial schema: messages, channel attempts, raw callbacks, inbound messages, opt-outs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from airflow_provider_messaging.store.schema import UTCDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "messaging_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("send_status", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("delivered_channel", sa.String(20), nullable=True),
        sa.Column("attempts", sa.JSON, nullable=True),
        sa.Column("dag_id", sa.String(250), nullable=True),
        sa.Column("task_id", sa.String(250), nullable=True),
        sa.Column("run_id", sa.String(250), nullable=True),
        sa.Column("map_index", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_messaging_messages_idempotency_key"),
        sa.UniqueConstraint("vendor", "message_id", name="uq_messaging_messages_vendor_message_id"),
    )
    op.create_index("ix_messaging_messages_message_id", "messaging_messages", ["message_id"])
    op.create_index("ix_messaging_messages_created_at", "messaging_messages", ["created_at"])
    op.create_table(
        "messaging_channel_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("channel_reference_id", sa.String(64), nullable=True),
        sa.Column("updated_on", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("vendor", "message_id", "channel", name="uq_messaging_attempts_message_channel"),
    )
    op.create_table(
        "messaging_callbacks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_messaging_callbacks_message_id", "messaging_callbacks", ["message_id"])
    op.create_table(
        "messaging_inbound",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("media", sa.JSON, nullable=True),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("keyword", sa.String(64), nullable=True),
        sa.Column("postback", sa.Text, nullable=True),
        sa.Column("reference_id", sa.String(64), nullable=True),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("callback_id", sa.Integer, nullable=True),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("vendor", "body_sha256", name="uq_messaging_inbound_body"),
    )
    op.create_index("ix_messaging_inbound_sender", "messaging_inbound", ["sender", "id"])
    op.create_table(
        "messaging_opt_outs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("keyword", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("vendor", "recipient", name="uq_messaging_opt_outs_vendor_recipient"),
    )


def downgrade() -> None:
    for table in (
        "messaging_opt_outs",
        "messaging_inbound",
        "messaging_callbacks",
        "messaging_channel_attempts",
        "messaging_messages",
    ):
        op.drop_table(table)
