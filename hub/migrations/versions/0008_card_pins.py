"""Volunteers' printed cards may have a PIN: ``card_pins`` keeps its slow hash.

One row a volunteer whose card has (or had) a PIN: the hash (none once cleared, so kiosks
hear of the clearing), and ``stamp``, the ledger's last sequence when it was set or
cleared, which the pull pages are cut by (indexed: a pull reads the rows stamped within
its range).

Revision ID: h0008
Revises: h0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0008"
down_revision = "h0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_pins",
        sa.Column("volunteer_id", sa.String(64), primary_key=True),
        sa.Column("pin_hash", sa.String(200), nullable=True),
        sa.Column("stamp", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_card_pins_stamp", "card_pins", ["stamp"])


def downgrade() -> None:
    op.drop_table("card_pins")
