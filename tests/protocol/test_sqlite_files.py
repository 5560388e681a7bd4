"""The hub's and the kiosk's SQLite files are private: 0600 (with their -wal and -shm), in a 0700 folder."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import Engine, text

from hub.db import migrate as migrate_hub
from hub.db import open_engine as open_hub
from kiosk.store.db import migrate as migrate_kiosk
from kiosk.store.db import open_engine as open_kiosk
from protocol.sqlite import durable_sqlite_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_of(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def written(engine: Engine) -> Engine:
    with engine.begin() as con:  # the write-ahead log and shared memory exist while it is open
        con.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        con.execute(text("INSERT INTO probe VALUES (1)"))
    return engine


def test_a_new_hub_database_is_0600_in_a_new_0700_folder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "timebank-hub" / "hub.db"
    engine = open_hub(f"sqlite:///{db}")
    migrate_hub(engine)
    written(engine)
    try:
        assert [mode(p) for p in files_of(db)] == [0o600] * 3
        assert mode(db.parent) == 0o700
    finally:
        engine.dispose()


def test_a_new_kiosk_database_is_0600_in_a_new_0700_folder(tmp_path: Path) -> None:
    db = tmp_path / "kiosk-data" / "kiosk.db"
    engine = open_kiosk(db)
    migrate_kiosk(engine)
    written(engine)
    try:
        assert [mode(p) for p in files_of(db)] == [0o600] * 3
        assert mode(db.parent) == 0o700
    finally:
        engine.dispose()


def test_files_an_older_install_left_readable_are_made_private(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    written(durable_sqlite_engine(f"sqlite:///{db}")).dispose()
    for path in files_of(db):
        path.touch()
        path.chmod(0o644)
    tmp_path.chmod(0o755)
    engine = written(durable_sqlite_engine(f"sqlite:///{db}"))
    try:
        assert [mode(p) for p in files_of(db)] == [0o600] * 3
        assert mode(tmp_path) == 0o755  # a folder it did not create is left as it is
    finally:
        engine.dispose()


def test_a_database_in_memory_makes_no_file() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = durable_sqlite_engine(url)
        with engine.connect() as con:
            assert con.execute(text("SELECT 1")).scalar() == 1
        engine.dispose()
    assert not (Path.cwd() / ":memory:").exists()
