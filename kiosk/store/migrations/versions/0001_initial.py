"""The kiosk's first tables: catalog, ledger, vends, audit, trust, technicians.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger", "audit")


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("image", sa.String(200), nullable=False),
    )
    op.create_table(
        "lanes",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=True),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("stock", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("fault", sa.String(200), nullable=True),
    )
    op.create_table(
        "ledger",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("ref", sa.String(36), nullable=True),
        sa.Column("item_id", sa.Integer, nullable=True),
        sa.Column("lane", sa.Integer, nullable=True),
        sa.Column("visit_id", sa.String(36), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("at", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
    )
    op.create_index("ix_ledger_volunteer_id", "ledger", ["volunteer_id"])
    op.create_index("ix_ledger_ref", "ledger", ["ref"])
    op.create_index(
        "ux_ledger_settles_once",
        "ledger",
        ["ref"],
        unique=True,
        sqlite_where=sa.text("kind IN ('charge', 'release')"),
        postgresql_where=sa.text("kind IN ('charge', 'release')"),
    )
    op.create_table(
        "vends",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("hold_id", sa.String(36), nullable=False),
        sa.Column("lane", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("flags", sa.String(200), nullable=False),
        sa.Column("sn", sa.Integer, nullable=True),
        sa.Column("started_at", sa.Integer, nullable=False),
        sa.Column("finished_at", sa.Integer, nullable=True),
    )
    op.create_index("ix_vends_hold_id", "vends", ["hold_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
    )
    op.create_table(
        "trust_keys",
        sa.Column("kid", sa.String(100), primary_key=True),
        sa.Column("jwk", sa.Text, nullable=False),
    )
    op.create_table("revoked_cards", sa.Column("jti", sa.String(100), primary_key=True))
    op.create_table(
        "seen_codes",
        sa.Column("jti", sa.String(100), primary_key=True),
        sa.Column("exp", sa.Integer, nullable=False),
    )
    op.create_index("ix_seen_codes_exp", "seen_codes", ["exp"])
    op.create_table(
        "technicians",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.Integer, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    for table in (
        "settings",
        "technicians",
        "seen_codes",
        "revoked_cards",
        "trust_keys",
        "audit",
        "vends",
        "ledger",
        "lanes",
        "items",
        "volunteers",
    ):
        op.drop_table(table)
