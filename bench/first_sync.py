"""First sync: N volunteers (2,500,000 by default) into an empty kiosk cache.

Two phases, each in its own process so each one's peak memory is its own, run in
alternation ``--runs`` times on fresh SQLite files with the kiosk's durable settings
(WAL, ``synchronous=FULL``):

* baseline: bare ``sqlite3`` ``executemany`` of the same rows into the kiosk's own
  ``volunteers`` table, one transaction per page, as the kiosk commits;
* kiosk: the hub's pull pages as they arrive on the wire (JSON bytes), decoded and
  validated with the protocol's ``PullPage`` (as ``HubClient.pull`` does) and stored by
  :meth:`Store.apply_pull` (upsert, cursor and trust list in one transaction per page).

Only the storing is timed (and, for the kiosk, decoding and validating the page): making the pages is
not. Pages are made one at a time, so nothing holds all N rows. Prints medians, the
ratio and each phase's peak resident memory. Target: kiosk ≤ 3× baseline.

    python bench/first_sync.py [--n 2500000] [--page 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMES = ["赵小明", "钱秀英", "孙建国", "李桂兰", "周志强", "吴丽华", "郑国庆", "王淑珍"]
JWK = {"kty": "OKP", "crv": "Ed25519", "kid": "hub-bench", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def pages(n: int, size: int) -> Iterator[list[tuple[str, str, int]]]:
    """The hub's pull pages' rows: ``[id, name, balance]``."""
    for lo in range(0, n, size):
        yield [(f"V{i:08d}", NAMES[i % len(NAMES)], 10 * (i % 97)) for i in range(lo, min(n, lo + size))]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def kiosk_phase(db: Path, n: int, size: int) -> dict[str, float]:
    from kiosk.services.store import Store
    from kiosk.store.db import durable_sqlite_engine, migrate
    from kiosk.store.uow import SqlUnitsOfWork
    from kiosk.sync import stored_page
    from protocol.sync import PullPage

    engine = durable_sqlite_engine(f"sqlite:///{db}")
    migrate(engine)
    repo = Store(SqlUnitsOfWork(engine))
    spent = 0.0
    cursor = 0
    for people in pages(n, size):
        cursor += len(people)
        wire = json.dumps(
            {
                "cursor": cursor,
                "more": True,
                "columns": ["id", "name", "balance"],
                "volunteers": people,
                "jwks": {"keys": [JWK]},
                "revoked": [],
                "technicians": [],
            },
            ensure_ascii=False,
        ).encode()
        started = time.perf_counter()
        repo.apply_pull(stored_page(PullPage.model_validate_json(wire)))
        spent += time.perf_counter() - started
    assert repo.sync_cursor() == n
    engine.dispose()
    return {"seconds": spent, "peak_mib": peak_mib()}


def baseline_phase(db: Path, n: int, size: int, schema: str) -> dict[str, float]:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute(schema)
    spent = 0.0
    for people in pages(n, size):
        started = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO volunteers (id, name, hub_balance) VALUES (?, ?, ?)", people)
        con.execute("COMMIT")
        spent += time.perf_counter() - started
    (count,) = con.execute("SELECT count(*) FROM volunteers").fetchone()
    assert count == n
    con.close()
    return {"seconds": spent, "peak_mib": peak_mib()}


def volunteers_schema() -> str:
    """The kiosk's own ``volunteers`` table, as its migrations create it."""
    from kiosk.store.db import durable_sqlite_engine, migrate

    with tempfile.TemporaryDirectory() as tmp:
        engine = durable_sqlite_engine(f"sqlite:///{Path(tmp) / 'schema.db'}")
        migrate(engine)
        with engine.connect() as con:
            sql = con.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'volunteers'").scalar()
        engine.dispose()
    return str(sql)


def run_child(phase: str, n: int, size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--phase", phase, "--n", str(n), "--page", str(size), "--db", tmp],
            check=True,
            capture_output=True,
            text=True,
        )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2_500_000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phase", choices=["kiosk", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        db = Path(args.db) / "kiosk.db"
        if args.phase == "kiosk":
            result = kiosk_phase(db, args.n, args.page)
        else:
            result = baseline_phase(db, args.n, args.page, volunteers_schema())
        print(json.dumps(result))
        return

    print(f"first sync of {args.n:,} volunteers, pages of {args.page:,}, {args.runs} runs each")
    kiosk: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    for run in range(args.runs):
        base.append(run_child("baseline", args.n, args.page))
        kiosk.append(run_child("kiosk", args.n, args.page))
        print(
            f"  run {run + 1}: baseline {base[-1]['seconds']:.2f} s, kiosk {kiosk[-1]['seconds']:.2f} s",
            file=sys.stderr,
        )
    b = statistics.median(r["seconds"] for r in base)
    k = statistics.median(r["seconds"] for r in kiosk)
    print(f"baseline sqlite3 executemany: median {b:.2f} s ({args.n / b:,.0f} rows/s)")
    print(
        "kiosk PullPage + apply_pull (JSON decode and validation + upsert + cursor): "
        f"median {k:.2f} s ({args.n / k:,.0f} rows/s)"
    )
    print(f"ratio kiosk / baseline: {k / b:.2f}x  (target <= 3x)")
    print(
        f"peak memory: baseline {max(r['peak_mib'] for r in base):.0f} MiB, "
        f"kiosk {max(r['peak_mib'] for r in kiosk):.0f} MiB (whole process, Python and libraries included)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
