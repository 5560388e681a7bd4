"""Vends: one row per dispense, in the state the core's ``vend`` module gave it (plain SQL, as the ledger)."""

from __future__ import annotations

import sqlite3

from ..core.records import HoldPlaced
from ..core.vend import Vend, VendState

_COLUMNS = "id, hold_id, lane, state, flags, sn, started_at, finished_at"


class VendRepository:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(self, v: Vend) -> None:
        self.db.execute(
            f"INSERT INTO vends ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (v.id, v.hold_id, v.lane, v.state.value, v.flags, v.sn, v.started_at, v.finished_at),
        )

    def get(self, vend_id: str) -> Vend | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM vends WHERE id = ?", (vend_id,)).fetchone()
        if row is None:
            return None
        i, hold, lane, state, flags, sn, started, finished = row
        return Vend(i, hold, lane, VendState(state), flags, sn, started, finished)

    def save(self, v: Vend) -> None:
        done = self.db.execute(
            "UPDATE vends SET state = ?, flags = ?, finished_at = ? WHERE id = ?",
            (v.state.value, v.flags, v.finished_at, v.id),
        )
        if done.rowcount != 1:
            raise LookupError(f"no vend {v.id}")

    def in_flight(self) -> list[HoldPlaced]:
        """Dispenses a previous run started and never settled (it stopped mid-vend)."""
        rows = self.db.execute(
            "SELECT l.id, v.id, l.volunteer_id, l.item_id, v.lane, l.amount, v.sn "
            "FROM vends v JOIN ledger l ON l.id = v.hold_id WHERE v.state = ? ORDER BY v.started_at",
            (VendState.IN_FLIGHT.value,),
        )
        return [
            HoldPlaced(h, v, vid, item or 0, lane, amount, sn) for h, v, vid, item, lane, amount, sn in rows
        ]
