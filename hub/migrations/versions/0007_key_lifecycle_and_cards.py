"""Signing keys get a life (active → retired → out of the trust list); issued cards are recorded.

``signing_keys`` gains ``retired_at`` (when the key stopped signing) and ``keep_until``
(when the last code it can have signed has expired: the longest lifetime a kiosk accepts,
``protocol.codes.MAX_LIFETIME_S``, a card's five years, plus the kiosks' leeway); the hub
publishes a key until then. Exactly one key is active (a partial unique index).

Existing keys: the newest is the active one. Every older key stopped signing when the key
after it was made (the hub always signed with its newest key), so its ``retired_at`` is
that key's ``created_at`` and its ``keep_until`` follows from it. This holds for keys the
old rotation had retired (dropped from the trust list after two rotations) as well: they
come back into the trust list until then, and the printed cards they signed, refused as
``unknown_key`` since, work again at each kiosk's next sync. Nothing they signed can be
unexpired past that time, so no card breaks; a key retired because it leaked is taken out
at once with ``kiosk-hub key drop KID``.

``issued_cards`` records each card (and technician code) the hub signs from now on: its
id (the code's ``jti``), holder, kind, when it was issued, when it expires, the key that
signed it. Cards printed before this revision cannot be known: ``kiosk-hub revoke-card
--unlisted`` revokes such an id.

Revision ID: h0007
Revises: h0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from alembic import op

from protocol.codes import LEEWAY_S, MAX_LIFETIME_S

revision = "h0007"
down_revision = "h0006"
branch_labels = None
depends_on = None

KEEP_S = max(MAX_LIFETIME_S.values()) + LEEWAY_S


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("retired_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("keep_until", sa.BigInteger, nullable=True))
    keys = sa.table(
        "signing_keys",
        sa.column("kid", sa.String),
        sa.column("created_at", sa.BigInteger),
        sa.column("generation", sa.Integer),
        sa.column("retired", sa.Boolean),
        sa.column("retired_at", sa.BigInteger),
        sa.column("keep_until", sa.BigInteger),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(keys.c.kid, keys.c.created_at).order_by(keys.c.generation)).all()
    for (kid, created_at), (_, next_created_at) in itertools.pairwise(rows):
        stopped = max(int(created_at), int(next_created_at))
        bind.execute(
            sa.update(keys)
            .where(keys.c.kid == kid)
            .values(retired=True, retired_at=stopped, keep_until=stopped + KEEP_S)
        )
    if rows:
        bind.execute(
            sa.update(keys)
            .where(keys.c.kid == rows[-1][0])
            .values(retired=False, retired_at=None, keep_until=None)
        )
    op.create_index(
        "ux_signing_keys_active",
        "signing_keys",
        ["retired"],
        unique=True,
        sqlite_where=sa.text("NOT retired"),
        postgresql_where=sa.text("NOT retired"),
    )
    op.create_table(
        "issued_cards",
        sa.Column("jti", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("kid", sa.String(100), nullable=False),
    )
    op.create_index("ix_issued_cards_holder", "issued_cards", ["holder"])


def downgrade() -> None:
    op.drop_index("ix_issued_cards_holder", table_name="issued_cards")
    op.drop_table("issued_cards")
    op.drop_index("ux_signing_keys_active", table_name="signing_keys")
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("keep_until")
        batch.drop_column("retired_at")
