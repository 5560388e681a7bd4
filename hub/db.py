"""Opening the hub's database by URL and migrating it with Alembic.

Default: a SQLite file in the platform's data directory; production: PostgreSQL with
``postgresql+psycopg://user@host/db``. SQLite gets WAL, ``synchronous=FULL`` and
``BEGIN IMMEDIATE`` as the kiosk does; PostgreSQL its defaults (READ COMMITTED), with
unique constraints doing the deduplication.

Only ``kiosk-hub init`` makes a hub database (:func:`open_hub` with ``create``): every
other command, and every worker of ``kiosk-hub serve``, opens one that has the hub's
tables already, so a mistyped ``--db`` is refused instead of becoming a new, empty hub. A
SQLite file is looked at read-only before the durable engine (which would create it) is
made. What cannot be opened (no such driver, a server that does not answer, a file that is
not a database) is a :class:`HubDatabaseError` of one line, the URL shown without its
password.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import platformdirs
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from protocol.sqlite import durable_sqlite_engine, run_migrations

MIGRATIONS = Path(__file__).with_name("migrations")
HUB_TABLES = frozenset({"ledger", "signing_keys"})
"""Tables every revision of the hub has and a kiosk's store does not: a hub's database."""


class HubDatabaseError(Exception):
    """The database cannot be opened as the hub's; the message is one line for a person."""


class NoHubDatabase(HubDatabaseError):
    """No database at the URL, or one without the hub's tables: ``kiosk-hub init`` makes one."""

    def __init__(self, url: str) -> None:
        super().__init__(f"no hub database at {shown(url)}; create one with kiosk-hub init")


def default_url() -> str:
    path = Path(platformdirs.user_data_dir("timebank-hub", appauthor=False)) / "hub.db"
    return f"sqlite:///{path}"


def shown(url: str) -> str:
    """``url`` as it may be printed: without its password (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//[^@/]*@", "//***@", url)


def reason(exc: BaseException) -> str:
    """The first line of what the driver (or SQLAlchemy) said."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def open_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":  # the file and a missing folder are made private
        return durable_sqlite_engine(url, busy_timeout_ms=10_000)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine) -> None:
    run_migrations(engine, MIGRATIONS)


def connect(url: str, *, create: bool = False) -> Engine:
    """An engine on the hub's database at ``url``, not migrated.

    Without ``create`` the database must exist and have the hub's tables
    (:class:`NoHubDatabase` otherwise, and nothing is created); with it, a SQLite file
    and its folder are made. Raises :class:`HubDatabaseError` when it cannot be opened.
    """
    where = shown(url)
    try:
        sqlite_file = _sqlite_file(url)
        if not create and sqlite_file is not None and not _sqlite_has_hub(sqlite_file, where):
            raise NoHubDatabase(url)
        engine = open_engine(url)
    except (ArgumentError, ImportError) as exc:  # no such driver, a URL that does not parse
        raise HubDatabaseError(f"cannot open the hub database at {where}: {reason(exc)}") from exc
    except OSError as exc:  # a SQLite file, or its folder, that cannot be made
        said = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
        raise HubDatabaseError(f"cannot open the hub database at {where}: {said}") from exc
    if create or sqlite_file is not None:
        return engine
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as exc:
        engine.dispose()
        raise HubDatabaseError(f"cannot reach the hub database at {where}: {reason(exc)}") from exc
    if not tables >= HUB_TABLES:
        engine.dispose()
        raise NoHubDatabase(url)
    return engine


def open_hub(url: str, *, create: bool = False) -> Engine:
    """:func:`connect`, then bring the database to the newest revision (an older hub's too)."""
    engine = connect(url, create=create)
    try:
        migrate(engine)
    except (SQLAlchemyError, CommandError) as exc:  # unreachable, or a revision this hub does not know
        engine.dispose()
        raise HubDatabaseError(f"cannot open the hub database at {shown(url)}: {reason(exc)}") from exc
    return engine


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None: not SQLite, in memory, or a ``file:`` URI)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def _sqlite_has_hub(path: Path, where: str) -> bool:
    """Whether the file holds the hub's tables, read without creating or changing anything."""
    if not path.is_file():
        return False
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise HubDatabaseError(f"cannot open the hub database at {where}: {exc}") from exc
    return names >= HUB_TABLES
