"""Opening the hub's database by URL and migrating it with Alembic.

Default: a SQLite file in the platform's data directory; production: PostgreSQL with
``postgresql+psycopg://user@host/db``. SQLite gets WAL, ``synchronous=FULL`` and
``BEGIN IMMEDIATE`` as the kiosk does; PostgreSQL its defaults (READ COMMITTED), with
unique constraints doing the deduplication.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from protocol.sqlite import durable_sqlite_engine, run_migrations

MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    path = Path(platformdirs.user_data_dir("timebank-hub", appauthor=False)) / "hub.db"
    return f"sqlite:///{path}"


def open_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":  # the file and a missing folder are made private
        return durable_sqlite_engine(url, busy_timeout_ms=10_000)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine) -> None:
    run_migrations(engine, MIGRATIONS)
