"""The fleet's catalogue, its price history, and donations.

``catalogue_items`` are the items the street office manages once for every kiosk (names,
price in 益币, the donating company, a picture in ``pictures``); pull pages carry them
whole (protocol 5).
``catalogue_history`` keeps every version of an item, who made it and when: the price
history, and the names the donors' report matches older redemptions by. ``donations`` are
stock a company gave (so many of an item, for one org's kiosks, on a day).

Revision ID: h0010
Revises: h0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0010"
down_revision = "h0009"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalogue_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name_zh", sa.String(100), nullable=False, unique=True),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("donor", sa.String(100), nullable=True, index=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("picture", sa.String(64), nullable=True),
    )
    op.create_table(
        "pictures",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "catalogue_history",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("donor", sa.String(100), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "donations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, nullable=False, index=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("org_id", sa.Integer, nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("donations")
    op.drop_table("catalogue_history")
    op.drop_table("pictures")
    op.drop_table("catalogue_items")
