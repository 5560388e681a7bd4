"""SQLite as both the kiosk and the hub open it, and Alembic migrations run on a connection.

:func:`durable_sqlite_engine` gives every connection WAL, ``synchronous=FULL`` (a
committed redemption survives a power cut), foreign keys on and a busy timeout;
pysqlite's own transaction handling is switched off and each transaction starts with
``BEGIN IMMEDIATE``, so two writers never interleave a read-then-write (the SQLAlchemy
documentation's recipe for serialisable SQLite). Only transactions on a :func:`reader`
engine (execution option :data:`READ_ONLY`) begin deferred: a WAL snapshot that waits
for no writer. :func:`run_migrations` brings any database, SQLite or not, to a revision
with the Alembic scripts it is given; schemas change only that way. A database file is
private to the user that runs the kiosk or the hub: created 0600 (its ``-wal`` and
``-shm`` files take the same mode from SQLite), in a folder created 0700; an existing file
that others could read is made 0600.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

READ_ONLY = "sqlite_read_only"
"""Execution option of connections whose transactions only read."""


def durable_sqlite_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """A SQLite engine with WAL, ``synchronous=FULL`` and ``BEGIN IMMEDIATE`` (kiosk and hub).

    Readers made with :func:`reader` begin deferred instead, so a scan's lookup never
    waits behind a sync storing a page. The file is made private first (:func:`private_file`).
    """
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database))
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


def private_file(path: Path) -> None:
    """``path`` exists, readable by its owner only; a missing folder is created 0700.

    SQLite gives the ``-wal`` and ``-shm`` files it creates the database file's mode;
    ones left by an older install are made private too.
    """
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # an empty file is an empty database
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(each.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            try:
                each.chmod(mode & 0o700)
            except PermissionError:
                log.warning("%s may be read by others (mode %04o) and is not ours to change", each, mode)


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
