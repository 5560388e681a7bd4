"""Benchmark helpers: a hub database seeded the fast way, and ``kiosk-hub serve`` as a process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.db import migrate, open_engine  # noqa: E402
from hub.models import LedgerEntry, Volunteer  # noqa: E402
from hub.service import Hub  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    hub = Hub(engine)
    hub.ensure_key()
    return hub


@contextmanager
def serve(url: str, workers: int = 1) -> Iterator[str]:
    """``kiosk-hub serve`` in its own process(es); yields its base URL."""
    port = free_port()
    more = ["--workers", str(workers), "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--db", url, "serve", "--port", str(port), *more],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the hub did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
