"""Volunteers' printed-card PINs from the hub, checked here offline, with their lockouts.

One row a volunteer whose card has a PIN: the hub's slow hash, and the lockout state a
technician's PIN has (failures, locked until, lockouts in a row). The PINs come down in
the pull pages from the ``card_pins_cursor`` setting on; a kiosk that had none asks from
the start once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_pins",
        sa.Column("volunteer_id", sa.String(64), primary_key=True),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lockouts", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("card_pins")
    op.execute("DELETE FROM settings WHERE key = 'card_pins_cursor'")
