"""Sending policies: consent records, and what frequency caps count.

- ``messaging_consent``: one row per change of a recipient's consent (``action`` opt_out / opt_in),
  ``method`` keyword / api / ui / cli / vendor_error / import, and the inbound message that caused it.
- ``messaging_messages.message_type`` (ARN/MKT/OTP or the operator's category) and an index on
  ``(recipient, created_at)``: a frequency cap counts a recipient's recent messages by type.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from airflow_provider_messaging.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "messaging_consent",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("keyword", sa.String(64), nullable=True),
        sa.Column("consent_text", sa.Text, nullable=True),
        sa.Column("campaign", sa.String(250), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("inbound_id", sa.Integer, nullable=True),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_messaging_consent_recipient", "messaging_consent", ["vendor", "recipient", "id"])
    op.add_column("messaging_messages", sa.Column("message_type", sa.String(32), nullable=True))
    op.create_index("ix_messaging_messages_recipient_created", "messaging_messages", ["recipient", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messaging_messages_recipient_created", table_name="messaging_messages")
    with op.batch_alter_table("messaging_messages") as batch:
        batch.drop_column("message_type")
    op.drop_index("ix_messaging_consent_recipient", table_name="messaging_consent")
    op.drop_table("messaging_consent")
