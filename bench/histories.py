"""Long redemption histories written straight into a kiosk store (bench setup only).

``add_history`` gives a volunteer ``n`` past redemptions at this kiosk, one a day going
back from yesterday: each a hold, its charge, a dispensed vend and the charge's outbox
event acknowledged by the hub, with the sync cursor past them all (a kiosk that synced),
so ``2n`` ledger entries — a courier who took water here every day for years.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path


def add_history(
    db: Path, volunteer_id: str, n: int, balance: int = 1_000_000, now: float | None = None
) -> None:
    now = time.time() if now is None else now
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous=OFF")
    con.execute(
        "INSERT INTO volunteers (id, name, hub_balance) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET hub_balance = excluded.hub_balance",
        (volunteer_id, "快递小哥", balance),
    )
    seq = int(con.execute("SELECT COALESCE(MAX(acked_seq), 0) FROM outbox").fetchone()[0])
    ledger, vends, outbox = [], [], []
    for i in range(n):
        at = int(now) - (n - i) * 86400
        day = time.strftime("%Y-%m-%d", time.localtime(at))
        hold, charge = str(uuid.uuid4()), str(uuid.uuid4())
        ledger.append((hold, volunteer_id, "hold", 20, None, 1, 1, at, day))
        ledger.append((charge, volunteer_id, "charge", 20, hold, 1, 1, at, day))
        vends.append((str(uuid.uuid4()), hold, 1, "dispensed", "", at, at))
        seq += 1
        outbox.append((str(uuid.uuid4()), charge, "redemption", volunteer_id, 20, at, seq))
    con.executemany(
        "INSERT INTO ledger (id, volunteer_id, kind, amount, ref, item_id, lane, at, day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ledger,
    )
    con.executemany(
        "INSERT INTO vends (id, hold_id, lane, state, flags, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        vends,
    )
    con.executemany(
        "INSERT INTO outbox (event_id, entry_id, kind, volunteer_id, amount, at, acked_seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        outbox,
    )
    con.execute(
        "INSERT INTO settings (key, value) VALUES ('sync_cursor', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)",
        (str(seq),),
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def sync_everything(db: Path) -> None:
    """What a good sync leaves: every queued event acknowledged and reflected (setup only)."""
    con = sqlite3.connect(db)
    seq = int(con.execute("SELECT COALESCE(MAX(acked_seq), 0) FROM outbox").fetchone()[0])
    rows = con.execute("SELECT event_id FROM outbox WHERE acked_seq IS NULL ORDER BY rowid").fetchall()
    con.executemany(
        "UPDATE outbox SET acked_seq = ? WHERE event_id = ?",
        [(seq + i + 1, r[0]) for i, r in enumerate(rows)],
    )
    con.execute(
        "INSERT INTO settings (key, value) VALUES ('sync_cursor', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(seq + len(rows)),),
    )
    con.commit()
    con.close()
