"""Volunteers' printed-card PINs (the hub's hashes) and their lockout state, by volunteer.

Plain SQL on the unit of work's own connection, as the other repositories a scan uses:
a card's scan looks its PIN up by primary key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ..core.people import PinState


class CardPinRepository:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def pin(self, volunteer_id: str) -> tuple[str, PinState] | None:
        row = self.db.execute(
            "SELECT pin_hash, failures, locked_until, lockouts FROM card_pins WHERE volunteer_id = ?",
            (volunteer_id,),
        ).fetchone()
        if row is None:
            return None
        pin_hash, failures, locked_until, lockouts = row
        return str(pin_hash), PinState(int(failures), float(locked_until), int(lockouts))

    def save_pin_state(self, volunteer_id: str, state: PinState) -> None:
        done = self.db.execute(
            "UPDATE card_pins SET failures = ?, locked_until = ?, lockouts = ? WHERE volunteer_id = ?",
            (state.failures, int(state.locked_until), state.lockouts, volunteer_id),
        )
        if done.rowcount == 0:  # cleared by a sync meanwhile
            raise LookupError(volunteer_id)

    def apply(self, rows: Iterable[tuple[str, str | None]]) -> None:
        """The hub's rows: a hash sets or replaces a PIN (a lockout in progress is kept), None clears it."""
        rows = list(rows)
        self.db.executemany(
            "INSERT INTO card_pins (volunteer_id, pin_hash, failures, locked_until, lockouts) "
            "VALUES (?, ?, 0, 0, 0) ON CONFLICT (volunteer_id) DO UPDATE SET pin_hash = excluded.pin_hash",
            [(vid, pin_hash) for vid, pin_hash in rows if pin_hash is not None],
        )
        cleared = [(vid,) for vid, pin_hash in rows if pin_hash is None]
        self.db.executemany("DELETE FROM card_pins WHERE volunteer_id = ?", cleared)
