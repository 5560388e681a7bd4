"""Hub ingest: 200 kiosks push their queued redemptions at once to a hub on PostgreSQL.

A fresh PostgreSQL database (dropped afterwards) gets ``--volunteers`` people; 200 kiosks
are registered, each with its own token; ``kiosk-hub serve --workers W`` serves it in its
own processes. Each simulated kiosk is a thread using the kiosk's own ``HubClient``,
pushing ``--events`` redemptions in batches of ``--batch`` (the kiosk's default 500, as
after an outage; smaller batches are the steady state). Timed: first request sent →
last acknowledgement received. Then every event is checked to be in the ledger once.

Baseline, same run, same database: the hub's own ``sync.push`` called in-process from
one thread with the same batches (the database work without HTTP or concurrency).
Target: ≥ 5,000 redemptions/s over HTTP on this 2-core machine.

    python bench/hub_ingest.py [--pg URL] [--kiosks 200] [--events 500] [--batch 500] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from typing import Any

from hubproc import seed_hub, serve
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hub import sync
from hub.models import LedgerEntry
from hub.service import Hub
from kiosk.sync import HubClient

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def make_events(n: int, volunteers: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(uuid.uuid4()),
            "kind": "redemption",
            "volunteer_id": f"V{(start + i) % volunteers:08d}",
            "amount": 15,
            "at": 1_790_000_000 + i,
        }
        for i in range(n)
    ]


def http_round(
    base: str, tokens: list[str], per_kiosk: int, batch: int, volunteers: int
) -> tuple[float, int]:
    queues = [make_events(per_kiosk, volunteers, k * per_kiosk) for k in range(len(tokens))]
    ready = threading.Barrier(len(tokens) + 1)
    errors: list[BaseException] = []
    acked = [0] * len(tokens)

    def kiosk(k: int) -> None:
        client = HubClient(base, tokens[k], timeout_s=300)
        ready.wait()
        try:
            for lo in range(0, per_kiosk, batch):
                acked[k] += len(client.push(queues[k][lo : lo + batch]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(len(tokens))]
    for t in threads:
        t.start()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    if errors:
        raise errors[0]
    return took, sum(acked)


def direct_round(hub: Hub, kiosk_id: str, total: int, batch: int, volunteers: int) -> float:
    events = [sync.Event.from_json(e) for e in make_events(total, volunteers, 0)]
    started = time.perf_counter()
    for lo in range(0, total, batch):
        sync.push(hub, kiosk_id, events[lo : lo + batch])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (a database is made on it)")
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--events", type=int, default=500, help="redemptions queued per kiosk")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    name = f"bench_ingest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        hub = seed_hub(url, args.volunteers)
        tokens = [hub.add_kiosk(f"驿站-{k:03d}")["token"] for k in range(args.kiosks)]
        direct_kiosk = hub.add_kiosk("direct")["kiosk_id"]
        total = args.kiosks * args.events
        http_rates: list[float] = []
        direct_rates: list[float] = []
        with serve(url, workers=args.workers) as base:
            for run in range(args.runs):
                took, acked = http_round(base, tokens, args.events, args.batch, args.volunteers)
                assert acked == total, (acked, total)
                http_rates.append(total / took)
                direct = direct_round(hub, direct_kiosk, total, args.batch, args.volunteers)
                direct_rates.append(total / direct)
                print(
                    f"  run {run + 1}: HTTP {total:,} in {took:.2f} s ({http_rates[-1]:,.0f}/s); "
                    f"in-process {direct:.2f} s ({direct_rates[-1]:,.0f}/s)"
                )
        with hub.unit() as s:
            applied = s.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redemption")
            )
        assert applied == 2 * total * args.runs, applied  # every event once, none twice
        hub.engine.dispose()
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    h, d = statistics.median(http_rates), statistics.median(direct_rates)
    print(
        f"{args.kiosks} kiosks × {args.events} redemptions, batches of {args.batch}, "
        f"{args.workers} hub workers, PostgreSQL, {args.runs} runs:"
    )
    print(f"  over HTTP, concurrent: median {h:,.0f} redemptions/s  (target >= 5,000/s)")
    print(f"  baseline, hub's push in-process, one thread: median {d:,.0f} redemptions/s")
    print(f"  ratio HTTP / in-process: {h / d:.2f}x")


if __name__ == "__main__":
    main()
