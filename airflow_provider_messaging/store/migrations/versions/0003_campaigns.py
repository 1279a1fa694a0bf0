"""Campaigns: the vendor messages of one bulk send or campaign share ``campaign_id``.

The campaign handle that a bulk task returns names it; the delivery sensor counts its messages with one
aggregate query (by campaign, state and delivery channel) instead of carrying every message id.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("messaging_messages", sa.Column("campaign_id", sa.String(250), nullable=True))
    op.create_index("ix_messaging_messages_campaign_id", "messaging_messages", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_messaging_messages_campaign_id", table_name="messaging_messages")
    with op.batch_alter_table("messaging_messages") as batch:
        batch.drop_column("campaign_id")
