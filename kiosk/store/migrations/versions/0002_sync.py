"""Sync with the hub: balances as of the cursor, and an outbox of events to push.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("hub_balance", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("entry_id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("volunteer_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("at", sa.Integer, nullable=False),
        sa.Column("acked_seq", sa.Integer, nullable=True),
    )
    op.create_index("ix_outbox_acked_seq", "outbox", ["acked_seq"])
    op.create_index("ix_outbox_volunteer_id", "outbox", ["volunteer_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_column("hub_balance")
