"""Refused events wait in a quarantine; applied events keep a digest; a reversal names its charge.

``ledger.digest`` and ``kiosk_events.digest`` tell a kiosk's repeat of an event from
another event under the same id (entries from before keep NULL and count as repeats);
``ledger.reverses`` is the event id of the charge a reversal gives back, unique so a
charge is given back once. ``quarantine`` keeps each refused event as sent, with its
reason and kiosk, once per id and digest.

Revision ID: h0005
Revises: h0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0005"
down_revision = "h0004"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # nullable columns with no default: a catalogue-only change on PostgreSQL, ADD COLUMN on SQLite
    op.add_column("ledger", sa.Column("digest", sa.String(64), nullable=True))
    op.add_column("ledger", sa.Column("reverses", sa.String(36), nullable=True))
    # partial: the redemptions, nearly every entry, add nothing to it
    op.create_index(
        "ux_ledger_reverses",
        "ledger",
        ["reverses"],
        unique=True,
        sqlite_where=sa.text("reverses IS NOT NULL"),
        postgresql_where=sa.text("reverses IS NOT NULL"),
    )
    op.add_column("kiosk_events", sa.Column("digest", sa.String(64), nullable=True))
    op.create_table(
        "quarantine",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kiosk_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("event_id", "digest", name="uq_quarantine_event_digest"),
    )
    op.create_index("ix_quarantine_kiosk_id", "quarantine", ["kiosk_id"])


def downgrade() -> None:
    op.drop_table("quarantine")
    with op.batch_alter_table("kiosk_events") as batch:
        batch.drop_column("digest")
    op.drop_index("ux_ledger_reverses", "ledger")
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("reverses")
        batch.drop_column("digest")
