"""Benchmark helpers: a hub database seeded the fast way, and ``kiosk-hub serve`` as a process."""

from __future__ import annotations

import os
import sys
import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.db import migrate, open_engine  # noqa: E402
from hub.kek import KEK_ENV, Kek  # noqa: E402
from hub.models import LedgerEntry, Volunteer  # noqa: E402
from hub.service import Hub  # noqa: E402
from tests.helpers import hub_subprocess  # noqa: E402


def bench_kek() -> Kek:
    """One key-encryption key for the benchmark and the hub processes it starts (``HUB_KEK``)."""
    if not os.environ.get(KEK_ENV):
        os.environ[KEK_ENV] = Kek.generate().encoded()
    return Kek.decode(os.environ[KEK_ENV], KEK_ENV)


def seed_hub(url: str, volunteers: int, batch: int = 50_000) -> Hub:
    """``volunteers`` people with one credit each (bench setup, not what is measured)."""
    engine = open_engine(url)
    migrate(engine)
    now = int(time.time())
    with engine.begin() as con:
        for lo in range(0, volunteers, batch):
            ids = [f"V{i:08d}" for i in range(lo, min(volunteers, lo + batch))]
            con.execute(insert(Volunteer), [{"id": v, "name": "测试志愿者", "flagged": False} for v in ids])
            con.execute(
                insert(LedgerEntry),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "volunteer_id": v,
                        "kind": "credit",
                        "amount": 500,
                        "record_id": f"seed-{v}",
                        "event_id": None,
                        "kiosk_id": None,
                        "note": None,
                        "at": now,
                    }
                    for v in ids
                ],
            )
            print(f"\r  hub seeded {min(volunteers, lo + batch):,} / {volunteers:,}", end="", file=sys.stderr)
    print(file=sys.stderr)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
        con.exec_driver_sql("ANALYZE")  # statistics, as a hub that has been running has them
    hub = Hub(engine, kek=bench_kek())
    hub.ensure_key()
    return hub


def serve(url: str, workers: int = 1) -> AbstractContextManager[str]:
    """``kiosk-hub serve`` in its own process(es), as the tests start it; yields its base URL."""
    return hub_subprocess(url, workers)
