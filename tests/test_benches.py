"""Each benchmark still runs, at a toy size (its figures are read by hand, never asserted).

The benchmarks are run by hand, so nothing else would notice when a change to the code
they drive breaks them. This runs each one small, as its own process, and checks it
printed its summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("KIOSK_TEST_POSTGRES_URL")


def run(script: str, *args: str) -> str:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize(
    ("script", "args", "says"),
    [
        ("redemption_commit.py", ["--redemptions", "3", "--entries", "20"], "long / short"),
        ("first_sync.py", ["--n", "30", "--page", "10", "--runs", "1"], "executemany"),
        ("delta_sync.py", ["--volunteers", "40", "--changes", "10", "--runs", "1", "--page", "10"], "delta"),
        ("scan_to_screen.py", ["--volunteers", "50", "--scans", "2", "--history", "10"], "long history"),
        ("status_round_trip.py", ["--n", "3"], "median"),
    ],
)
def test_a_benchmark_runs_small(script: str, args: list[str], says: str) -> None:
    assert says in run(script, *args)


@pytest.mark.skipif(POSTGRES is None, reason="needs PostgreSQL (CI sets KIOSK_TEST_POSTGRES_URL)")
def test_the_ingest_benchmark_runs_small() -> None:
    assert POSTGRES is not None
    out = run(
        "hub_ingest.py", "--pg", POSTGRES, "--kiosks", "2", "--events", "10", "--batch", "5",
        "--volunteers", "20", "--runs", "1", "--workers", "1",
    )  # fmt: skip
    assert "HTTP / in-process" in out


@pytest.mark.skipif(POSTGRES is None, reason="needs PostgreSQL (CI sets KIOSK_TEST_POSTGRES_URL)")
def test_the_console_reports_benchmark_runs_small() -> None:
    assert POSTGRES is not None
    out = run(
        "console_reports.py", "--pg", POSTGRES, "--redemptions", "300", "--volunteers", "50", "--runs", "1"
    )
    assert "page / bare SQL" in out and "CSV export" in out
