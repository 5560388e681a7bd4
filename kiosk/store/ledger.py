"""The ledger's repository: append entries, and load the bounded facts a decision needs.

Entries are appended, never changed (triggers refuse UPDATE and DELETE). The facts about
one volunteer (:meth:`LedgerRepository.facts`) come from indexed queries whose size
does not grow with the volunteer's history: what the hub has not seen or reflected,
open holds (through the vends still open), and today's holds. No rule is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, and_, exists, func, select, union_all
from sqlalchemy.orm import Session, aliased

from ..core.ledger import Entry, EntryKind
from ..core.redemption import KioskSpending, VolunteerFacts
from ..core.vend import OPEN_STATES
from .models import LedgerRow, OutboxRow, VendRow, VolunteerRow

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
        s = self.s
        known = s.execute(
            select(VolunteerRow.name, VolunteerRow.hub_balance).where(VolunteerRow.id == volunteer_id)
        ).first()
        # events the hub has not acknowledged, and those it applied past our cursor
        queued = (
            select(*_ENTRY_COLUMNS, OutboxRow.acked_seq)
            .join(OutboxRow, OutboxRow.entry_id == LedgerRow.id)
            .where(OutboxRow.volunteer_id == volunteer_id)
        )
        pending = union_all(
            queued.where(OutboxRow.acked_seq.is_(None)),
            queued.where(OutboxRow.acked_seq > cursor),
        )
        unseen: list[Entry] = []
        unreflected: list[Entry] = []
        for *row, acked in s.execute(pending):
            (unseen if acked is None else unreflected).append(_entry(row))
        # credits made here (a kiosk with no hub, a demo) never go up
        credits = select(*_ENTRY_COLUMNS).where(
            LedgerRow.volunteer_id == volunteer_id, LedgerRow.kind == "credit"
        )
        unseen.extend(_entry(r) for r in s.execute(credits))
        open_holds = [
            _entry(r)
            for r in s.execute(
                select(*_ENTRY_COLUMNS)
                .join(VendRow, VendRow.hold_id == LedgerRow.id)
                .where(VendRow.state.in_(OPEN_STATES))
                .where(LedgerRow.volunteer_id == volunteer_id)
            )
        ]
        release = aliased(LedgerRow)
        released = exists().where(and_(release.ref == LedgerRow.id, release.kind == "release"))
        held_today = [
            _entry(r)
            for r in s.execute(
                select(*_ENTRY_COLUMNS).where(
                    LedgerRow.volunteer_id == volunteer_id,
                    LedgerRow.kind == "hold",
                    LedgerRow.day == day,
                    ~released,
                )
            )
        ]
        return VolunteerFacts(
            id=volunteer_id,
            name=None if known is None else str(known[0]),
            hub_balance=0 if known is None else int(known[1]),
            unseen=tuple(unseen),
            unreflected=tuple(unreflected),
            open_holds=tuple(open_holds),
            held_today=tuple(held_today),
        )

    def kiosk_spending(self) -> KioskSpending:
        """Charges the hub has not seen and open holds, over every volunteer (both bounded)."""
        unseen = self.s.scalar(
            select(func.coalesce(func.sum(OutboxRow.amount), 0))
            .where(OutboxRow.acked_seq.is_(None))
            .where(OutboxRow.kind == "redemption")
        )
        held = self.s.scalar(
            select(func.coalesce(func.sum(LedgerRow.amount), 0))
            .join(VendRow, VendRow.hold_id == LedgerRow.id)
            .where(VendRow.state.in_(OPEN_STATES))
        )
        return KioskSpending(int(unseen or 0), int(held or 0))

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
