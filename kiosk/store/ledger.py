"""The ledger's repository: append entries, and load the bounded facts a decision needs.

Entries are appended, never changed (triggers refuse UPDATE and DELETE). The facts about
one volunteer (:meth:`LedgerRepository.facts`) come from indexed queries whose size
does not grow with the volunteer's history: what the hub has not seen or reflected,
open holds (through the open vends' partial index), and today's holds. No rule is
decided here.

A scan and a redemption run these queries every time, so they are plain SQL on the
transaction's own SQLite connection (see :mod:`kiosk.store.uow`): SQLAlchemy's per-statement
work cost more than SQLite's here (``bench/redemption_commit.py``). The tables are still
the mapped models, created and changed only by migrations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from ..core.ledger import Entry, EntryKind
from ..core.redemption import KioskSpending, VolunteerFacts
from .models import OPEN_VENDS

_COLUMNS = "l.id, l.volunteer_id, l.kind, l.amount, l.ref, l.item_id, l.lane, l.day"
_ENTRY = f"SELECT {_COLUMNS} FROM ledger l"
_VOLUNTEER = "SELECT name, hub_balance FROM volunteers WHERE id = ?"
# events the hub has not acknowledged, and those it applied past our cursor (two index ranges)
_PENDING = (
    f"SELECT {_COLUMNS}, o.acked_seq FROM outbox o JOIN ledger l ON l.id = o.entry_id "
    "WHERE o.volunteer_id = ? AND o.acked_seq IS NULL "
    "UNION ALL "
    f"SELECT {_COLUMNS}, o.acked_seq FROM outbox o JOIN ledger l ON l.id = o.entry_id "
    "WHERE o.volunteer_id = ? AND o.acked_seq > ?"
)
# the condition of the partial unique index ``ux_ledger_settles_once``: a lookup by ``ref``
# that names it uses the index
_SETTLING = "('charge', 'release')"
_CREDITS = f"{_ENTRY} WHERE l.volunteer_id = ? AND l.kind = 'credit'"  # made here; never go up
_HELD_ON = (
    f"{_ENTRY} WHERE l.volunteer_id = ? AND l.kind = 'hold' AND l.day = ? "
    "AND NOT EXISTS (SELECT 1 FROM ledger r WHERE r.ref = l.id "
    f"AND r.kind = 'release' AND r.kind IN {_SETTLING})"
)
_OPEN_HOLDS = f"{_ENTRY} WHERE l.id IN (SELECT hold_id FROM vends WHERE {OPEN_VENDS})"
_UNSEEN_CHARGES = (
    "SELECT COALESCE(SUM(amount), 0) FROM outbox WHERE acked_seq IS NULL AND kind = 'redemption'"
)
_INSERT = (
    "INSERT INTO ledger (id, volunteer_id, kind, amount, ref, item_id, lane, visit_id, note, at, day) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_VOLUNTEERS = (
    "INSERT INTO volunteers (id, name, hub_balance) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name{balance}"
)


def _entry(row: Sequence[Any]) -> Entry:
    i, vid, kind, amount, ref, item_id, lane, day = row[:8]
    return Entry(i, vid, EntryKind(kind), amount, ref, item_id, lane, day)


class LedgerRepository:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(self, entry: Entry, at: int, *, visit_id: str | None = None, note: str | None = None) -> None:
        e = entry
        row = (
            e.id,
            e.volunteer_id,
            e.kind.value,
            e.amount,
            e.ref,
            e.item_id,
            e.lane,
            visit_id,
            note,
            at,
            e.day or "",
        )
        self.db.execute(_INSERT, row)

    def get(self, entry_id: str) -> Entry | None:
        row = self.db.execute(f"{_ENTRY} WHERE l.id = ?", (entry_id,)).fetchone()
        return None if row is None else _entry(row)

    def charge_of(self, hold_id: str) -> Entry | None:
        row = self.db.execute(
            f"{_ENTRY} WHERE l.ref = ? AND l.kind = 'charge' AND l.kind IN {_SETTLING}", (hold_id,)
        ).fetchone()
        return None if row is None else _entry(row)

    def history(self, volunteer_id: str) -> list[Entry]:
        """Every entry of one volunteer at this kiosk (for reports and checks, not for decisions)."""
        rows = self.db.execute(f"{_ENTRY} WHERE l.volunteer_id = ? ORDER BY l.rowid", (volunteer_id,))
        return [_entry(r) for r in rows]

    def facts(self, volunteer_id: str, day: str, cursor: int) -> VolunteerFacts:
        """The facts of :class:`~kiosk.core.redemption.VolunteerFacts`, each by an index."""
        db, vid = self.db, volunteer_id
        known = db.execute(_VOLUNTEER, (vid,)).fetchone()
        unseen: list[Entry] = []
        unreflected: list[Entry] = []
        for row in db.execute(_PENDING, (vid, vid, cursor)):
            (unseen if row[8] is None else unreflected).append(_entry(row))
        unseen.extend(_entry(r) for r in db.execute(_CREDITS, (vid,)))
        return VolunteerFacts(
            id=vid,
            name=None if known is None else str(known[0]),
            hub_balance=0 if known is None else int(known[1]),
            unseen=tuple(unseen),
            unreflected=tuple(unreflected),
            open_holds=tuple(e for e in self._open_holds() if e.volunteer_id == vid),
            held_today=tuple(_entry(r) for r in db.execute(_HELD_ON, (vid, day))),
        )

    def _open_holds(self) -> list[Entry]:
        """Every hold of a vend still open (in flight, in doubt): a handful, whatever the history.

        Found from the vends first (a partial index); joined the other way round, SQLite
        would walk a volunteer's whole history by the ledger's index.
        """
        return [_entry(r) for r in self.db.execute(_OPEN_HOLDS)]

    def kiosk_spending(self) -> KioskSpending:
        """Charges the hub has not seen and open holds, over every volunteer (both bounded)."""
        unseen = self.db.execute(_UNSEEN_CHARGES).fetchone()[0]
        return KioskSpending(int(unseen or 0), sum(e.amount for e in self._open_holds()))

    def upsert_volunteers(self, rows: Iterable[tuple[str, str, int]], balances: bool) -> int:
        """Insert or update many volunteers in one ``executemany`` (a first sync brings millions)."""
        rows = list(rows)
        if rows:
            balance = ", hub_balance = excluded.hub_balance" if balances else ""
            self.db.executemany(_UPSERT_VOLUNTEERS.format(balance=balance), rows)
        return len(rows)
