"""The honour roll: volunteers placed in a community, their opt-out, hours per month.

``volunteers.org_id`` is the community (or street) a volunteer belongs to, ``ranked`` whether
they appear on its honour roll (they may opt out). ``hours_months`` holds certified hours per
volunteer and month of service, in tenths of an hour; it is filled here from the credits
the ledger already holds (their notes say the hours and the day of service).

Revision ID: h0011
Revises: h0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

revision = "h0011"
down_revision = "h0010"
branch_labels = None
depends_on = None

NOTE = re.compile(r"^(\d+(?:\.\d)?) h · .* · (\d{4})-(\d{2})-\d{2}$", re.S)
"""A credit's note as the importer writes it: ``2.5 h · 助老 · 2026-11-01``."""


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("org_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("ranked", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.create_index("ix_volunteers_org_id", ["org_id"])
    months = op.create_table(
        "hours_months",
        sa.Column("volunteer_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("tenths", sa.BigInteger, nullable=False),
    )
    totals: Counter[tuple[str, int]] = Counter()
    rows = op.get_bind().execute(sa.text("SELECT volunteer_id, note FROM ledger WHERE kind = 'credit'"))
    for volunteer_id, note in rows:
        found = NOTE.match(note or "")
        if not found:
            continue
        try:
            tenths = int(Decimal(found[1]) * 10)
        except InvalidOperation:
            continue
        totals[(volunteer_id, int(found[2]) * 100 + int(found[3]))] += tenths
    batch_rows = [{"volunteer_id": v, "month": m, "tenths": t} for (v, m), t in totals.items()]
    for start in range(0, len(batch_rows), 5000):
        op.bulk_insert(months, batch_rows[start : start + 5000])


def downgrade() -> None:
    op.drop_table("hours_months")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_index("ix_volunteers_org_id")
        batch.drop_column("ranked")
        batch.drop_column("org_id")
