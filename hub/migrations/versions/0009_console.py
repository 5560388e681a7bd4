"""The street office's console: districts, streets and communities; staff who sign in.

``orgs`` is the tree kiosks are placed in (``kiosks.org_id``); ``staff`` are the people
who sign in to the console, each with a role and the org whose kiosks they see (none: the
whole city); ``staff_sessions`` the signed-in browsers, by the hash of their cookie.
``ix_ledger_kind_at`` serves the redemption reports' date ranges; ``redemption_days`` holds
their totals per city day, kiosk and item, folded from the ledger up to
``report_watermark.seq`` (from 0: the first report folds what the ledger holds); ``alerts``
and ``alert_deliveries`` what the office is told about and sent to its webhook.

Revision ID: h0009
Revises: h0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0009"
down_revision = "h0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("parent_id", "name", name="uq_orgs_parent_name"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("org_id", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.Integer, nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(sa.Column("org_id", sa.Integer, nullable=True))
        batch.create_index("ix_kiosks_org_id", ["org_id"])
    op.create_index("ix_ledger_kind_at", "ledger", ["kind", "at"])
    op.create_index(
        "ix_volunteers_flagged",
        "volunteers",
        ["id"],
        sqlite_where=sa.text("flagged"),
        postgresql_where=sa.text("flagged"),
    )
    op.create_table(
        "redemption_days",
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("kiosk_id", sa.String(36), primary_key=True),
        sa.Column("item_name", sa.String(100), primary_key=True),
        sa.Column("items", sa.BigInteger, nullable=False),
        sa.Column("spent", sa.BigInteger, nullable=False),
    )
    watermark = op.create_table(
        "report_watermark",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(watermark, [{"id": 1, "seq": 0}])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=False),
        sa.Column("seen_at", sa.BigInteger, nullable=True),
        sa.Column("seen_by", sa.String(64), nullable=True),
        sa.Column("closed_at", sa.BigInteger, nullable=True, index=True),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False, unique=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.BigInteger, nullable=False),
        sa.Column("delivered_at", sa.BigInteger, nullable=True),
        sa.Column("failed_at", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alerts")
    op.drop_table("report_watermark")
    op.drop_table("redemption_days")
    op.drop_index("ix_volunteers_flagged", table_name="volunteers")
    op.drop_index("ix_ledger_kind_at", table_name="ledger")
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_index("ix_kiosks_org_id")
        batch.drop_column("org_id")
    op.drop_table("staff_sessions")
    op.drop_table("staff")
    op.drop_table("orgs")
