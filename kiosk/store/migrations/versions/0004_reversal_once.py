"""A charge can be given back once: a partial unique index on the reversals' ``ref``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ux_ledger_reversed_once",
        "ledger",
        ["ref"],
        unique=True,
        sqlite_where=sa.text("kind = 'reversal'"),
        postgresql_where=sa.text("kind = 'reversal'"),
    )


def downgrade() -> None:
    op.drop_index("ux_ledger_reversed_once", "ledger")
