"""Opening the kiosk's SQLite file and bringing its schema up to date.

The file is opened with the durable settings both sides share (``protocol.sqlite``: WAL,
``synchronous=FULL``, ``BEGIN IMMEDIATE``, deferred readers; its names are re-exported
here) and its schema is created and changed only by the kiosk's own Alembic migrations,
shipped in this package.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from protocol.sqlite import READ_ONLY, durable_sqlite_engine, reader, run_migrations

__all__ = [
    "MIGRATIONS",
    "READ_ONLY",
    "durable_sqlite_engine",
    "migrate",
    "open_engine",
    "reader",
    "run_migrations",
    "sqlite_url",
]

MIGRATIONS = Path(__file__).with_name("migrations")


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def open_engine(path: Path | str) -> Engine:
    """The kiosk's database file, created 0600 (and a missing folder 0700) if it is new."""
    return durable_sqlite_engine(sqlite_url(path))


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the kiosk's database to ``revision`` with the migrations shipped in the package."""
    run_migrations(engine, MIGRATIONS, revision)
