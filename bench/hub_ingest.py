"""Hub ingest: 200 kiosks push their queued redemptions at once to a hub on PostgreSQL.

A fresh PostgreSQL database (dropped afterwards) gets ``--volunteers`` people; 200 kiosks
are registered, each with its own token; ``kiosk-hub serve --workers W`` serves it in its
own processes. Each simulated kiosk is a thread using the kiosk's own ``HubClient``
(which builds and validates each push with the protocol's models), pushing ``--events``
protocol-2 redemptions (item, price, quantity, lane) in batches of each size in
``--batch``: 50 is the steady state (a kiosk pushes what it sold since the last
minute), 500 the kiosk's batch after an outage. Timed: first request sent → last
acknowledgement received. Then every event is checked to be in the ledger once.

Baseline, same run, same database: the hub's own ``sync.push`` called in-process from
one thread with the same batches (the database work without HTTP or concurrency). Each
batch size has a freshly seeded database of its own.
Targets on this 2-core machine: ≥ 5,000 redemptions/s over HTTP in batches of 50,
≥ 9,000/s in batches of 500.

    python bench/hub_ingest.py [--pg URL] [--kiosks 200] [--events 500] [--batch 50,500] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from typing import Any

from hubproc import seed_hub, serve
from pydantic import TypeAdapter
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hub import sync
from hub.models import LedgerEntry
from hub.service import Hub
from kiosk.sync import HubClient
from protocol.sync import Event

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def make_events(n: int, volunteers: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(uuid.uuid4()),
            "kind": "redemption",
            "volunteer_id": f"V{(start + i) % volunteers:08d}",
            "amount": 15,
            "at": 1_790_000_000 + i,
            "item_id": 1 + i % 8,
            "item_name": "抽纸",
            "unit_price": 15,
            "quantity": 1,
            "lane": 1 + i % 8,
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
    events = TypeAdapter(list[Event]).validate_python(make_events(total, volunteers, 0))
    started = time.perf_counter()
    for lo in range(0, total, batch):
        sync.push(hub, kiosk_id, events[lo : lo + batch])
    return time.perf_counter() - started


TARGETS = {50: 5_000, 500: 9_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (a database is made on it)")
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--events", type=int, default=500, help="redemptions queued per kiosk")
    parser.add_argument("--batch", default="50,500", help="batch sizes, comma-separated, each measured")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]

    total = args.kiosks * args.events
    http_rates: dict[int, list[float]] = {b: [] for b in batches}
    direct_rates: dict[int, list[float]] = {b: [] for b in batches}
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    try:
        # each size on a database of its own, seeded alike: the ledger grows by 2 × total a run,
        # and each size should meet the ledger sizes it met when the bench measured one size
        for batch in batches:
            name = f"bench_ingest_{uuid.uuid4().hex[:10]}"
            with admin.connect() as con:
                con.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            try:
                hub = seed_hub(url, args.volunteers)
                tokens = [hub.add_kiosk(f"驿站-{k:03d}")["token"] for k in range(args.kiosks)]
                direct_kiosk = hub.add_kiosk("direct")["kiosk_id"]
                with serve(url, workers=args.workers) as base:
                    for run in range(args.runs):
                        took, acked = http_round(base, tokens, args.events, batch, args.volunteers)
                        assert acked == total, (acked, total)
                        http_rates[batch].append(total / took)
                        direct = direct_round(hub, direct_kiosk, total, batch, args.volunteers)
                        direct_rates[batch].append(total / direct)
                        print(
                            f"  batches of {batch}, run {run + 1}: HTTP {total:,} in {took:.2f} s "
                            f"({http_rates[batch][-1]:,.0f}/s); in-process {direct:.2f} s "
                            f"({direct_rates[batch][-1]:,.0f}/s)"
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
    finally:
        admin.dispose()

    print(
        f"{args.kiosks} kiosks × {args.events} redemptions, {args.workers} hub workers, PostgreSQL, "
        f"{args.runs} runs (medians):"
    )
    print("  batch   over HTTP, concurrent   in-process, one thread   HTTP / in-process   target")
    for batch in batches:
        h, d = statistics.median(http_rates[batch]), statistics.median(direct_rates[batch])
        target = TARGETS.get(batch)
        goal = f">= {target:,}/s" if target else "-"
        print(f"  {batch:>5}   {h:>15,.0f}/s   {d:>17,.0f}/s   {h / d:>16.2f}x   {goal}")


if __name__ == "__main__":
    main()
