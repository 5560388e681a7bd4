"""Clients of the hub have a role: a kiosk (syncs) or the volunteer app (asks for codes).

Revision ID: h0003
Revises: h0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0003"
down_revision = "h0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="kiosk"))


def downgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_column("role")
