"""Alembic environment for the hub: migrations run on the connection handed over."""

from __future__ import annotations

from alembic import context

from hub.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through hub.db.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
