"""Integration fixtures: the hub served over real HTTP on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from hub.app import create_api
from hub.db import migrate, open_engine
from hub.service import Hub
from tests.helpers import free_port, hub_subprocess


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[tuple[Hub, str]]:
    engine = open_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    hub = Hub(engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_api(hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="hub-server")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield hub, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``kiosk-hub serve`` in its own process on a SQLite file: yields (database URL, base URL)."""
    db = f"sqlite:///{tmp_path / 'hub-process.db'}"
    with hub_subprocess(db) as base:
        yield db, base
