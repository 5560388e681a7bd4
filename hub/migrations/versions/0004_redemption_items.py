"""A redemption's ledger entry keeps what was dispensed: item id and name, unit price, quantity, lane.

Revision ID: h0004
Revises: h0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0004"
down_revision = "h0003"
branch_labels = None
depends_on = None

COLUMNS = ("item_id", "item_name", "unit_price", "quantity", "lane")


def upgrade() -> None:
    # nullable columns with no default: a catalogue-only change on PostgreSQL and an
    # ALTER TABLE ... ADD COLUMN on SQLite; entries already there keep NULL
    op.add_column("ledger", sa.Column("item_id", sa.Integer, nullable=True))
    op.add_column("ledger", sa.Column("item_name", sa.String(100), nullable=True))
    op.add_column("ledger", sa.Column("unit_price", sa.Integer, nullable=True))
    op.add_column("ledger", sa.Column("quantity", sa.Integer, nullable=True))
    op.add_column("ledger", sa.Column("lane", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
