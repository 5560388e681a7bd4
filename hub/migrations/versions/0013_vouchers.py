"""Vouchers (兑换券): each one issued, and its single use at a partner's desk.

``vouchers`` keeps a voucher's id (its code's ``jti``), holder, item, value, life and the key
that signed it, and — once a partner checked it — when and at which partner it was used.
Partners are clients with the ``partner`` role (``kiosks.role``), each with its own token.

Revision ID: h0013
Revises: h0012
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0013"
down_revision = "h0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vouchers",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False, index=True),
        sa.Column("item", sa.String(100), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("kid", sa.String(100), nullable=False),
        sa.Column("used_at", sa.BigInteger, nullable=True),
        sa.Column("used_by", sa.String(36), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("vouchers")
