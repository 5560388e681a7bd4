"""Items the hub's catalogue manages: ``items.hub_id`` links a kiosk's item to the fleet's.

An item with a hub id takes its names and price from each pull page (protocol 5); its
lanes and stock stay the technicians'. Items without one are this kiosk's own, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("hub_id", sa.Integer, nullable=True))
        batch.create_index("ix_items_hub_id", ["hub_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_hub_id")
        batch.drop_column("hub_id")
