"""Hub fixtures: every hub test runs on SQLite, and on PostgreSQL when one is given.

``KIOSK_TEST_POSTGRES_URL`` (``.ci/run`` sets it) names a server to create a fresh
database on for each test, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub import cli
from hub.db import migrate, open_engine
from hub.kek import Kek
from hub.service import Hub

POSTGRES = os.environ.get("KIOSK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    assert POSTGRES is not None
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    engine = open_engine(db_url)
    migrate(engine)
    yield Hub(engine, kek=Kek.generate())
    engine.dispose()


@pytest.fixture
def hub_url(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``db_url`` after ``kiosk-hub init``: only ``init`` creates a hub database, every other
    command needs one (its key-encryption key goes to the test's own key file)."""
    assert cli.main(["--db", db_url, "init"]) == 0
    capsys.readouterr()
    return db_url
