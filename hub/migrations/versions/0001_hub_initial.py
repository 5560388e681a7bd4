"""The hub's first tables: volunteers, ledger, kiosks, signing keys, revoked cards.

Revision ID: h0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0001"
down_revision = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
    )
    op.create_table(
        "ledger",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("volunteer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String(100), nullable=True, unique=True),
        sa.Column("event_id", sa.String(36), nullable=True, unique=True),
        sa.Column("kiosk_id", sa.String(36), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ledger_volunteer_id", "ledger", ["volunteer_id"])
    op.create_table(
        "kiosks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(100), primary_key=True),
        sa.Column("private_pem", sa.Text, nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, unique=True),
        sa.Column("retired", sa.Boolean, nullable=False),
    )
    op.create_table(
        "revoked_cards",
        sa.Column("jti", sa.String(100), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("revoked_cards", "signing_keys", "kiosks", "ledger", "volunteers"):
        op.drop_table(table)
