"""SQLite as both the kiosk and the hub open it, and Alembic migrations run on a connection.

:func:`durable_sqlite_engine` gives every connection WAL, ``synchronous=FULL`` (a
committed redemption survives a power cut), foreign keys on and a busy timeout;
pysqlite's own transaction handling is switched off and each transaction starts with
``BEGIN IMMEDIATE``, so two writers never interleave a read-then-write (the SQLAlchemy
documentation's recipe for serialisable SQLite). Only transactions on a :func:`reader`
engine (execution option :data:`READ_ONLY`) begin deferred: a WAL snapshot that waits
for no writer. :func:`run_migrations` brings any database, SQLite or not, to a revision
with the Alembic scripts it is given; schemas change only that way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

READ_ONLY = "sqlite_read_only"
"""Execution option of connections whose transactions only read."""


def durable_sqlite_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """A SQLite engine with WAL, ``synchronous=FULL`` and ``BEGIN IMMEDIATE`` (kiosk and hub).

    Readers made with :func:`reader` begin deferred instead, so a scan's lookup never
    waits behind a sync storing a page.
    """
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # a reader (see ``reader``) takes no write lock: under WAL it reads a snapshot and
        # never waits for a writer; everything else takes the write lock up front
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def reader(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that only read (a deferred ``BEGIN``)."""
    return engine.execution_options(**{READ_ONLY: True})


def run_migrations(engine: Engine, script_location: Path, revision: str = "head") -> None:
    """Bring a database to ``revision`` with the Alembic scripts at ``script_location``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
