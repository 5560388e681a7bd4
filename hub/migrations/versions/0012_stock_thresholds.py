"""Low-stock thresholds per lane or per item (one kiosk's, or every kiosk's).

Revision ID: h0012
Revises: h0011
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0012"
down_revision = "h0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_thresholds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.String(36), nullable=True),
        sa.Column("lane", sa.Integer, nullable=True),
        sa.Column("item", sa.String(100), nullable=True),
        sa.Column("at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_thresholds")
