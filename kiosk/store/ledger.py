"""The ledger's repository: append entries, and load the bounded facts a decision needs.

Entries are appended, never changed (triggers refuse UPDATE and DELETE). The facts about
one volunteer (:meth:`LedgerRepository.facts`) come from indexed queries whose size
does not grow with the volunteer's history: what the hub has not seen or reflected,
open holds (through the vends still open), and today's holds. No rule is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BindParameter, Row, and_, bindparam, exists, func, select, text, union_all
from sqlalchemy.orm import Session, aliased

from ..core.ledger import Entry, EntryKind
from ..core.redemption import KioskSpending, VolunteerFacts
from .models import OPEN_VENDS, LedgerRow, OutboxRow, VendRow, VolunteerRow

_ENTRY_COLUMNS = (
    LedgerRow.id,
    LedgerRow.volunteer_id,
    LedgerRow.kind,
    LedgerRow.amount,
    LedgerRow.ref,
    LedgerRow.item_id,
    LedgerRow.lane,
    LedgerRow.day,
)

# the facts of one volunteer, built once (a scan and a hold run them every time)
_VID: BindParameter[str] = bindparam("vid")
_VOLUNTEER = select(VolunteerRow.name, VolunteerRow.hub_balance).where(VolunteerRow.id == _VID)
_QUEUED = (
    select(*_ENTRY_COLUMNS, OutboxRow.acked_seq)
    .join(OutboxRow, OutboxRow.entry_id == LedgerRow.id)
    .where(OutboxRow.volunteer_id == _VID)
)
_PENDING = union_all(  # events not acknowledged, and those applied past our cursor
    _QUEUED.where(OutboxRow.acked_seq.is_(None)),
    _QUEUED.where(OutboxRow.acked_seq > bindparam("cursor")),
)
_CREDITS = select(*_ENTRY_COLUMNS).where(  # made here (no hub, a demo): they never go up
    LedgerRow.volunteer_id == _VID, LedgerRow.kind == "credit"
)
_RELEASE = aliased(LedgerRow)
_HELD_ON = select(*_ENTRY_COLUMNS).where(
    LedgerRow.volunteer_id == _VID,
    LedgerRow.kind == "hold",
    LedgerRow.day == bindparam("day"),
    ~exists().where(and_(_RELEASE.ref == LedgerRow.id, _RELEASE.kind == "release")),
)
_OPEN_HOLDS = select(*_ENTRY_COLUMNS).where(
    LedgerRow.id.in_(select(VendRow.hold_id).where(text(OPEN_VENDS)).scalar_subquery())
)
_UNSEEN_CHARGES = (
    select(func.coalesce(func.sum(OutboxRow.amount), 0))
    .where(OutboxRow.acked_seq.is_(None))
    .where(OutboxRow.kind == "redemption")
)

_UPSERT_VOLUNTEERS = (
    "INSERT INTO volunteers (id, name, hub_balance) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name{balance}"
)


def _entry(row: Row[Any] | Sequence[Any]) -> Entry:
    i, vid, kind, amount, ref, item_id, lane, day = tuple(row)
    return Entry(i, vid, EntryKind(kind), amount, ref, item_id, lane, day)


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, entry: Entry, at: int, *, visit_id: str | None = None, note: str | None = None) -> None:
        self.s.add(
            LedgerRow(
                id=entry.id,
                volunteer_id=entry.volunteer_id,
                kind=entry.kind.value,
                amount=entry.amount,
                ref=entry.ref,
                item_id=entry.item_id,
                lane=entry.lane,
                visit_id=visit_id,
                note=note,
                at=at,
                day=entry.day or "",
            )
        )

    def get(self, entry_id: str) -> Entry | None:
        row = self.s.execute(select(*_ENTRY_COLUMNS).where(LedgerRow.id == entry_id)).first()
        return None if row is None else _entry(row)

    def charge_of(self, hold_id: str) -> Entry | None:
        row = self.s.execute(
            select(*_ENTRY_COLUMNS).where(LedgerRow.ref == hold_id).where(LedgerRow.kind == "charge")
        ).first()
        return None if row is None else _entry(row)

    def history(self, volunteer_id: str) -> list[Entry]:
        """Every entry of one volunteer at this kiosk (for reports and checks, not for decisions)."""
        rows = self.s.execute(select(*_ENTRY_COLUMNS).where(LedgerRow.volunteer_id == volunteer_id))
        return [_entry(r) for r in rows]

    def facts(self, volunteer_id: str, day: str, cursor: int) -> VolunteerFacts:
        """The facts of :class:`~kiosk.core.redemption.VolunteerFacts`, each by an index."""
        s, who = self.s, {"vid": volunteer_id}
        known = s.execute(_VOLUNTEER, who).first()
        unseen: list[Entry] = []
        unreflected: list[Entry] = []
        for *row, acked in s.execute(_PENDING, {**who, "cursor": cursor}):
            (unseen if acked is None else unreflected).append(_entry(row))
        unseen.extend(_entry(r) for r in s.execute(_CREDITS, who))
        held_today = [_entry(r) for r in s.execute(_HELD_ON, {**who, "day": day})]
        return VolunteerFacts(
            id=volunteer_id,
            name=None if known is None else str(known[0]),
            hub_balance=0 if known is None else int(known[1]),
            unseen=tuple(unseen),
            unreflected=tuple(unreflected),
            open_holds=tuple(e for e in self._open_holds() if e.volunteer_id == volunteer_id),
            held_today=tuple(held_today),
        )

    def _open_holds(self) -> list[Entry]:
        """Every hold of a vend still open (in flight, in doubt): a handful, whatever the history.

        Found from the vends first (a partial index); joined the other way round, SQLite
        would walk a volunteer's whole history by the ledger's index.
        """
        return [_entry(r) for r in self.s.execute(_OPEN_HOLDS)]

    def kiosk_spending(self) -> KioskSpending:
        """Charges the hub has not seen and open holds, over every volunteer (both bounded)."""
        unseen = self.s.scalar(_UNSEEN_CHARGES)
        held = sum(e.amount for e in self._open_holds())
        return KioskSpending(int(unseen or 0), held)

    def upsert_volunteers(self, rows: Iterable[tuple[str, str, int]], balances: bool) -> int:
        """Insert or update many volunteers in one ``executemany`` (a first sync brings millions).

        Plain SQL with positional rows: SQLAlchemy's per-row parameter processing cost more
        than SQLite's own work here (``bench/first_sync.py``).
        """
        rows = list(rows)
        if rows:
            balance = ", hub_balance = excluded.hub_balance" if balances else ""
            self.s.connection().exec_driver_sql(_UPSERT_VOLUNTEERS.format(balance=balance), rows)
        return len(rows)
