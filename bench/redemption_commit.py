"""A redemption's commits (hold + charge) for a short and a long history, beside a bare commit.

Builds a kiosk store through the composition root, gives one volunteer a history of
5,000 ledger entries at this kiosk (2,500 past redemptions, synced) and another none,
and times ``place_hold`` + ``settle`` (each its own durable ``BEGIN IMMEDIATE`` commit)
for each, alternating, one simulated day apart (the daily caps see one item a day, as
in life). Before each pair the store's write-ahead log is checkpointed, as the kiosk does
after every scan; a sync is simulated every 20 redemptions; neither is timed. Beside them, in
the same run and on the same disk: a bare ``sqlite3`` insert + fsync'd commit (WAL,
``synchronous=FULL``); a redemption makes two. Prints medians, p99 and ratios.
Target: hold + charge ≤ 3 ms p99 with 5,000 entries, and no slower than a short history.

    python bench/redemption_commit.py [--redemptions 400] [--entries 5000]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from histories import add_history, sync_everything

from drivers.machine import DispenseResult, Outcome
from kiosk.bootstrap import bootstrap
from kiosk.config import demo_config
from kiosk.core.rules import Limits
from kiosk.demo import load_or_create_key, seed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class DayClock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redemptions", type=int, default=400, help="timed per volunteer")
    ap.add_argument("--entries", type=int, default=5000, help="ledger entries of the long history")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    key = load_or_create_key(tmp / "key.pem")
    clock = DayClock()
    config = demo_config(tmp, turn_s=0.0)
    parts = bootstrap(config, clock=clock, seed=lambda repo: seed(repo, key))
    store = parts.store
    add_history(config.db_path, "LONG", args.entries // 2, now=clock())
    add_history(config.db_path, "SHORT", 0, now=clock())
    con = sqlite3.connect(config.db_path)
    con.execute("UPDATE lanes SET capacity = 1000000, stock = 1000000")
    con.commit()
    con.close()
    lane = next(lane for lane in store.lanes() if lane.item_id is not None)
    limits = Limits(per_visit_items=5, per_item_per_day=2)
    timings: dict[str, list[float]] = {"SHORT": [], "LONG": []}
    warm = 20
    for i in range(args.redemptions + warm):
        clock.t += 86400  # a day later: today's holds are one or two, as in life
        store.checkpoint()  # as after each visit's scan (KioskService.after_scan), untimed
        for who in ("SHORT", "LONG"):
            t0 = time.perf_counter()
            hold = store.place_hold(who, lane.item_id or 0, lane.number, f"visit-{i}", limits)
            store.settle(hold, DispenseResult(Outcome.DISPENSED, lane.number))
            if i >= warm:
                timings[who].append((time.perf_counter() - t0) * 1000)
        if i % 20 == 19:
            sync_everything(config.db_path)
    history = len(store.entries("LONG"))
    parts.close()

    # the baseline: a bare fsync'd commit on the same disk, as the kiosk's file is set up
    base = sqlite3.connect(tmp / "bare.db", isolation_level=None)
    base.execute("PRAGMA journal_mode=WAL")
    base.execute("PRAGMA synchronous=FULL")
    base.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    bare: list[float] = []
    for i in range(args.redemptions + warm):
        t0 = time.perf_counter()
        base.execute("BEGIN IMMEDIATE")
        base.execute("INSERT INTO t (v) VALUES (?)", (str(i),))
        base.execute("COMMIT")
        if i >= warm:
            bare.append((time.perf_counter() - t0) * 1000)
    base.close()

    bmed, bp99 = statistics.median(bare), pct(bare, 99)
    print(f"redemptions timed per volunteer   {args.redemptions}")
    print(f"bare sqlite3 fsync'd commit        median {bmed:6.3f} ms   p99 {bp99:6.3f} ms")
    for who, label in (
        ("SHORT", "short history (0 entries before)"),
        ("LONG", f"long history ({history:,} entries)"),
    ):
        med, p99 = statistics.median(timings[who]), pct(timings[who], 99)
        print(
            f"hold + charge, {label:<34} median {med:6.3f} ms   p99 {p99:6.3f} ms"
            f"   {med / bmed:4.1f}× a bare commit ({med / (2 * bmed):4.1f}× two)"
        )
    long_p99, short_med, long_med = (
        pct(timings["LONG"], 99),
        statistics.median(timings["SHORT"]),
        statistics.median(timings["LONG"]),
    )
    print(f"long / short (median)              {long_med / short_med:4.2f}×")
    print(f"target p99 ≤ 3 ms with a long history: {'met' if long_p99 <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
