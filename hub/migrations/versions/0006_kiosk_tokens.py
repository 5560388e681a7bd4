"""Kiosk tokens can be revoked and rotated; credential changes are audited; signing keys are sealed.

``kiosks`` gains ``revoked_at`` and the previous token's hash with the time it stops
working; ``token_generation`` (one row) counts revocations and rotations, so each hub
process can tell cheaply that the tokens it remembers may be stale; ``hub_audit`` records
each change. ``signing_keys.private_pem`` becomes ``private_key``: keys stored plain
before this revision are sealed with the key-encryption key the next time the hub starts
(``Hub.ensure_key``), which needs the key and so is not done here. A downgrade keeps them
sealed.

Revision ID: h0006
Revises: h0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0006"
down_revision = "h0005"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(sa.Column("revoked_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("previous_token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("previous_token_until", sa.BigInteger, nullable=True))
    generation = op.create_table(
        "token_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])
    op.create_table(
        "hub_audit",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("private_pem", new_column_name="private_key", existing_type=sa.Text)


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("private_key", new_column_name="private_pem", existing_type=sa.Text)
    op.drop_table("hub_audit")
    op.drop_table("token_generation")
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_column("previous_token_until")
        batch.drop_column("previous_token_hash")
        batch.drop_column("revoked_at")
