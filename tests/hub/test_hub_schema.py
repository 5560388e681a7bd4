"""The hub's migrations build exactly its models, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.models import Base
from hub.service import Hub


def test_migrations_match_the_models(hub: Hub) -> None:
    with hub.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
