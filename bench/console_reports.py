"""The console's redemption report at a city's scale, on PostgreSQL.

A fresh PostgreSQL database (dropped afterwards) gets ``--volunteers`` people and
``--redemptions`` redemptions in one month across ``--kiosks`` kiosks (COPY: setup, not
measured); the ledger is folded into the daily totals once (timed, printed apart: a hub
pays it once, at its first report after the upgrade). ``kiosk-hub serve`` runs in its own
process, as in production; a signed-in session asks for:

* the redemptions page for the month (totals per item, kiosk and day, the chart, the latest
  100 rows): median and p90 of ``--runs`` requests; target ≤ 300 ms;
* the month's CSV export, streamed and counted: time to the last byte; target ≤ 10 s, with
  the hub process's peak memory before and after (the export must not hold the rows).

Baseline, same run, same database: the bare SQL of the month's count and sum, timed the same
way (median), so the page's figure reads as a ratio to what the database itself needs.

    python bench/console_reports.py [--pg URL] [--redemptions 1000000] [--kiosks 10] [--runs 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from hubproc import seed_hub, serve
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.console import store
from hub.console.rules import CITY_TZ, Role
from hub.console.web import COOKIE

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ITEMS = [
    ("抽纸", 15),
    ("矿泉水", 20),
    ("饼干", 25),
    ("牛奶", 30),
    ("方便面", 35),
    ("毛巾", 40),
    ("洗衣液", 60),
    ("雨伞", 80),
]
MONTH = dt.date(2026, 10, 1)


def day_start(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), CITY_TZ).timestamp())


def seed_redemptions(url: str, n: int, kiosks: list[str], volunteers: int) -> None:
    """``n`` redemptions spread over October (COPY, the fast way)."""
    start, end = day_start(MONTH), day_start(dt.date(2026, 11, 1))
    span = end - start
    engine = create_engine(url)
    columns = (
        "id, volunteer_id, kind, amount, event_id, kiosk_id, at,"
        " item_id, item_name, unit_price, quantity, lane"
    )
    with engine.begin() as con:
        raw = con.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY ledger ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(n):
                name, price = ITEMS[i % len(ITEMS)]
                event = str(uuid.uuid4())
                copy.write_row(
                    (event, f"V{(i * 7919) % volunteers:08d}", "redemption", -price, event,
                     kiosks[i % len(kiosks)], start + (i * span) // n, 1 + i % len(ITEMS), name, price, 1,
                     1 + i % 8)
                )  # fmt: skip
                if i % 100_000 == 0:
                    print(f"\r  redemptions {i:,} / {n:,}", end="", file=sys.stderr)
    print(f"\r  redemptions {n:,} / {n:,}", file=sys.stderr)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
        con.exec_driver_sql("VACUUM ANALYZE ledger")
    engine.dispose()


def children_peak_mb() -> float:
    """The peak resident memory (VmHWM) of this process's children: the hub server."""
    peak = 0
    me = Path(f"/proc/{os.getpid()}/task")
    for task in me.iterdir():
        for pid in (task / "children").read_text().split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak / 1024


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t) * 1000)
    return out


def p90(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.9 * len(xs)) - 1)]


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (a database is made on it)")
    parser.add_argument("--redemptions", type=int, default=1_000_000)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--kiosks", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"bench_console_{uuid.uuid4().hex[:8]}"
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        hub = seed_hub(url, args.volunteers)
        kiosks = [hub.add_kiosk(f"自助机{i + 1:02d}")["kiosk_id"] for i in range(args.kiosks)]
        seed_redemptions(url, args.redemptions, kiosks, args.volunteers)
        store.add_staff(hub, "bench", Role.ADMIN, None, "bench password")
        cookie = store.sign_in(hub, "bench", "bench password")
        month = {"from": MONTH.isoformat(), "to": "2026-10-31"}
        a, b = day_start(MONTH), day_start(dt.date(2026, 11, 1))
        bare_sql = text(
            "SELECT count(*), coalesce(sum(-amount), 0) FROM ledger"
            " WHERE kind = 'redemption' AND at >= :a AND at < :b"
        )

        def bare() -> None:
            with hub.engine.connect() as con:
                con.execute(bare_sql, {"a": a, "b": b}).one()

        t = time.perf_counter()
        folded = store.fold_redemptions(hub)  # what the first report after the backfill pays, once
        fold_s = time.perf_counter() - t
        with (
            serve(url) as base,
            httpx.Client(base_url=base, cookies={COOKIE: cookie}, timeout=120) as c,
        ):

            def page() -> None:
                r = c.get("/console/redemptions", params=month)
                assert r.status_code == 200 and "共兑换" in r.text, r.status_code

            page()  # warm: templates compiled, connections open
            bare()
            sql_ms, page_ms = [], []
            for _ in range(args.runs):  # in turn, so both see the same machine
                sql_ms += timed(bare, 1)
                page_ms += timed(page, 1)
            before = children_peak_mb()
            t = time.perf_counter()
            lines = size = 0
            with c.stream("GET", "/console/redemptions.csv", params=month) as r:
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            export_s = time.perf_counter() - t
            after = children_peak_mb()
        sql_med, page_med = statistics.median(sql_ms), statistics.median(page_ms)
        print(
            f"console reports: {args.redemptions:,} redemptions in a month, {args.kiosks} kiosks, PostgreSQL"
        )
        print(f"  bare SQL (count, sum)   median {sql_med:8.1f} ms   p90 {p90(sql_ms):8.1f} ms")
        page_p90 = p90(page_ms)
        print(f"  redemptions page        median {page_med:8.1f} ms   p90 {page_p90:8.1f} ms   (≤ 300)")
        print(f"  page / bare SQL         {page_med / sql_med:.2f}×")
        print(f"  first fold into the daily totals (once)  {fold_s:.1f} s for {folded:,} ledger entries")
        rows = f"{lines - 1:,} rows, {size / 1e6:.1f} MB"
        print(f"  CSV export              {export_s:8.2f} s   {rows}   (target ≤ 10 s)")
        print(f"  hub's peak memory       {before:.0f} MB before the export, {after:.0f} MB after")
        assert lines - 1 == args.redemptions, (lines, args.redemptions)
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
