"""Integration fixtures: the hub served over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import cli
from hub.app import create_api
from hub.db import migrate, open_engine
from hub.kek import Kek
from hub.service import Hub
from tests.helpers import hub_subprocess, serving


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[tuple[Hub, str]]:
    engine = open_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    hub = Hub(engine, kek=Kek.generate())
    with serving(create_api(hub)) as base:
        yield hub, base
    engine.dispose()


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``kiosk-hub init``, then ``kiosk-hub serve`` in its own process on that SQLite file:
    yields (database URL, base URL)."""
    db = f"sqlite:///{tmp_path / 'hub-process.db'}"
    assert cli.main(["--db", db, "init"]) == 0
    with hub_subprocess(db) as base:
        yield db, base
