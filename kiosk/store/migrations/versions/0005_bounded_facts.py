"""Indexes that bound a redemption's facts, whatever the volunteer's history.

One volunteer's queued or unreflected events (outbox by volunteer and acknowledgement),
one day's holds (ledger by volunteer, kind and day) and the open vends (a partial
index on the few vends in flight or in doubt).
The indexes on the volunteer alone are prefixes of the new ones and go; so do the ledger's
index on ``ref`` (its partial unique indexes serve every lookup by ``ref``) and the vends'
on ``hold_id`` (nothing looks vends up by it): a redemption writes fewer pages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ledger_ref", "ledger")
    op.drop_index("ix_vends_hold_id", "vends")
    op.drop_index("ix_outbox_volunteer_id", "outbox")
    op.create_index("ix_outbox_volunteer_acked", "outbox", ["volunteer_id", "acked_seq"])
    op.drop_index("ix_ledger_volunteer_id", "ledger")
    op.create_index("ix_ledger_volunteer_kind_day", "ledger", ["volunteer_id", "kind", "day"])
    op.create_index(
        "ix_vends_open",
        "vends",
        ["hold_id"],
        sqlite_where=sa.text("state IN ('in_flight', 'unknown')"),
        postgresql_where=sa.text("state IN ('in_flight', 'unknown')"),
    )


def downgrade() -> None:
    op.drop_index("ix_vends_open", "vends")
    op.drop_index("ix_ledger_volunteer_kind_day", "ledger")
    op.create_index("ix_ledger_volunteer_id", "ledger", ["volunteer_id"])
    op.drop_index("ix_outbox_volunteer_acked", "outbox")
    op.create_index("ix_outbox_volunteer_id", "outbox", ["volunteer_id"])
    op.create_index("ix_vends_hold_id", "vends", ["hold_id"])
    op.create_index("ix_ledger_ref", "ledger", ["ref"])
