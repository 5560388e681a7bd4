"""Every service test runs twice: on the in-memory unit of work and on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.services.store import Store
from kiosk.store.db import migrate, open_engine
from kiosk.store.uow import SqlUnitsOfWork
from tests.helpers import FakeClock
from tests.services.fakes import FakeUnitsOfWork


@pytest.fixture(params=["fake", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store with two items in three lanes and two volunteers (100 and 10 益币)."""
    clock = FakeClock()
    if request.param == "fake":
        store = Store(FakeUnitsOfWork(), clock=clock)
        engine = None
    else:
        engine = open_engine(tmp_path / "kiosk.db")
        migrate(engine)
        store = Store(SqlUnitsOfWork(engine), clock=clock)
    tissues = store.add_item("seed", "抽纸", "Tissues", 15)
    water = store.add_item("seed", "矿泉水", "Water", 20)
    store.add_lane("seed", 1, tissues.id, 10, 5)
    store.add_lane("seed", 2, water.id, 10, 1)
    store.add_lane("seed", 3, water.id, 10, 0)
    store.upsert_volunteers([("V1", "赵小明"), ("V2", "钱秀英")])
    store.credit("V1", 100)
    store.credit("V2", 10)
    yield store
    if engine is not None:
        engine.dispose()
