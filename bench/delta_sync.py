"""Delta sync: 10,000 volunteers' balances changed at the hub, one kiosk sync brings them.

A hub (``kiosk-hub serve`` in its own process, SQLite by default or ``--hub-db URL``)
holds ``--volunteers`` people; a kiosk makes its first sync of all of them over HTTP
(timed and printed too). Then, ``--runs`` times: the hub imports 10,000 certified-hours
records for 10,000 different volunteers (the platform's real delta), and the kiosk's
``Syncer.run_once()`` (push, then pull every page, store them) is timed. Beside it, in
the same run, a baseline: the same pages fetched with bare ``urllib`` and decoded, not
stored. The order of the two alternates between runs. Target: ≤ 0.5 s per delta.

    python bench/delta_sync.py [--volunteers 250000] [--changes 10000] [--runs 5] [--hub-db URL]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from hubproc import seed_hub, serve

from kiosk.services.store import Store
from kiosk.store.db import durable_sqlite_engine, migrate
from kiosk.store.uow import SqlUnitsOfWork
from kiosk.sync import HubClient, Syncer


def fetch_only(url: str, token: str, cursor: int, page: int) -> int:
    """The pages a sync from ``cursor`` reads, fetched and decoded, nothing stored."""
    rows = 0
    while True:
        query = urllib.parse.urlencode({"cursor": cursor, "limit": page})
        request = urllib.request.Request(
            f"{url}/v1/sync/pull?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        rows += len(body["volunteers"])
        cursor = body["cursor"]
        if not body["more"]:
            return rows


def hours_csv(ids: list[str], tag: str) -> bytes:
    lines = ["record_id,volunteer_id,name,hours,activity,certified_on"]
    lines += [f"{tag}-{v},{v},测试志愿者,1.5,助老,2026-11-20" for v in ids]
    return "\n".join(lines).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volunteers", type=int, default=250_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--hub-db", help="hub database URL (default: a SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.hub_db or f"sqlite:///{Path(tmp) / 'hub.db'}"
        hub = seed_hub(url, args.volunteers)
        token = hub.add_kiosk(f"bench-{time.time_ns()}")["token"]
        engine = durable_sqlite_engine(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        migrate(engine)
        repo = Store(SqlUnitsOfWork(engine))
        with serve(url) as base:
            syncer = Syncer(repo, HubClient(base, token, timeout_s=120), page=args.page)
            started = time.perf_counter()
            first = syncer.run_once()
            took = time.perf_counter() - started
            assert first.ok and first.pulled == args.volunteers, first
            print(
                f"first sync over HTTP: {args.volunteers:,} volunteers in {took:.1f} s "
                f"({args.volunteers / took:,.0f}/s)"
            )
            rng = random.Random(7)
            synced: list[float] = []
            fetched: list[float] = []
            for run in range(args.runs):
                ids = [f"V{i:08d}" for i in rng.sample(range(args.volunteers), args.changes)]
                report = hub.import_hours(hours_csv(ids, f"run{run}-{time.time_ns()}"))
                assert report.imported == args.changes, report
                cursor = repo.sync_cursor()

                def fetch(cursor: int = cursor) -> None:
                    started = time.perf_counter()
                    assert fetch_only(base, token, cursor, args.page) == args.changes
                    fetched.append(time.perf_counter() - started)

                def sync() -> None:
                    started = time.perf_counter()
                    done = syncer.run_once()
                    synced.append(time.perf_counter() - started)
                    assert done.ok and done.pulled == args.changes, done

                for step in (fetch, sync) if run % 2 == 0 else (sync, fetch):
                    step()
                print(
                    f"  run {run + 1}: sync {synced[-1]:.3f} s, fetch only {fetched[-1]:.3f} s",
                    file=sys.stderr,
                )
        engine.dispose()
        hub.engine.dispose()

    s, f = statistics.median(synced), statistics.median(fetched)
    print(f"delta of {args.changes:,} changes ({args.volunteers:,} volunteers cached), {args.runs} runs:")
    print(f"  kiosk sync (push + pull + store): median {s:.3f} s  (target <= 0.5 s)")
    print(f"  baseline, same pages fetched and decoded only: median {f:.3f} s")
    print(f"  ratio sync / fetch-only: {s / f:.2f}x")


if __name__ == "__main__":
    main()
