"""Logical messages (cross-vendor failover) and per-watcher cursors (event-driven DAGs).

- ``messaging_messages.logical_key`` / ``attempt``: the vendor messages that one failover send made, in
  the order they were tried, share the logical (parent) idempotency key.
- ``messaging_watcher_cursors``: the highest inbound id each asset watcher has claimed.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from airflow_provider_messaging.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("messaging_messages", sa.Column("logical_key", sa.String(512), nullable=True))
    op.add_column("messaging_messages", sa.Column("attempt", sa.Integer, nullable=True))
    op.create_index("ix_messaging_messages_logical_key", "messaging_messages", ["logical_key"])
    op.create_table(
        "messaging_watcher_cursors",
        sa.Column("watcher", sa.String(250), primary_key=True),
        sa.Column("last_inbound_id", sa.Integer, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("messaging_watcher_cursors")
    op.drop_index("ix_messaging_messages_logical_key", table_name="messaging_messages")
    with op.batch_alter_table("messaging_messages") as batch:
        batch.drop_column("attempt")
        batch.drop_column("logical_key")
