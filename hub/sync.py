"""The hub's side of kiosk sync: events pushed exactly once, changes pulled by cursor.

Push: events arrive as ``protocol.sync`` models, already validated. Each carries the
kiosk's UUID; the ledger's unique ``event_id`` applies it once, whatever the retries,
and the acknowledgement names the hub sequence it was applied at (the same sequence for
a repeat). Late arrivals are kept; an overdraft from offline spending is never refused
(the item is gone): it is recorded and the account is flagged (before the push is
answered). A redemption's entry
keeps the item, unit price, quantity and lane the kiosk sent (protocol 2) and the kiosk
the request's token names. The batches of requests that arrive together in one worker
process are applied together, in one transaction under the ledger's lock (a group
commit), so 200 kiosks pushing 50 events each share a lock and a commit's flush instead
of queueing for one each.

Pull: the ledger's sequence is the cursor. A page holds the volunteers whose entries
lie in (cursor, new cursor], each a row ``[id, name, balance]`` (``columns`` names them)
with the balance as of the new cursor, so a kiosk that stores the page and its cursor in
one transaction always holds balances that are exact as of a point of the hub's history.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from protocol.sync import (
    PROTOCOL_VERSION,
    VOLUNTEER_COLUMNS,
    Ack,
    AuditEvent,
    Event,
    Jwks,
    LedgerEvent,
    PullPage,
    RedemptionEvent,
    StatusEvent,
)
from protocol.sync import Technician as TechnicianRecord

from .models import KioskEvent, KioskStatus, LedgerEntry, SigningKey, Technician, Volunteer
from .service import Hub

log = logging.getLogger(__name__)

SIGN = {"redemption": -1, "reversal": 1}
"""Events that move 益币, with the sign of their ledger entry."""
GROUP_EVENTS = 5000
"""Events applied in one group transaction, at most (a single larger batch goes alone)."""


def push(hub: Hub, kiosk_id: str, events: Sequence[Event]) -> list[Ack]:
    """Apply each event once; acknowledge every event, in order, with its sequence.

    Audit entries and status reports are applied in a transaction of their own (each is
    idempotent by itself); the events that move 益币 go through the worker's group
    commit (:class:`_GroupCommit`).
    """
    done: dict[str, tuple[int, bool]] = {}
    records = [e for e in events if isinstance(e, AuditEvent | StatusEvent)]
    if records:
        with hub.unit() as s:
            done.update(_apply_records(s, kiosk_id, records, hub.clock()))
    money = [e for e in events if not isinstance(e, AuditEvent | StatusEvent)]
    if money:
        done.update(_group_commit(hub).apply(hub, kiosk_id, money))
    # built from the hub's own values (validated event ids, sequences from the ledger)
    return [Ack.model_construct(id=e.id, seq=done[e.id][0], duplicate=done[e.id][1]) for e in events]


# --- the ledger's events, a group at a time ------------------------------------------------


@dataclass(eq=False)
class _Batch:
    """One request's ledger events, waiting for a group transaction to apply them."""

    kiosk_id: str
    events: list[LedgerEvent]
    result: dict[str, tuple[int, bool]] | None = None
    error: BaseException | None = None
    woken: threading.Event = field(default_factory=threading.Event)
    """Set once the batch is applied (or has failed), or when its request is handed the lead."""


@dataclass(eq=False)
class _GroupCommit:
    """Concurrent requests' batches applied together: one transaction, one lock, one flush.

    A request that arrives while no group is being applied leads: it takes every batch
    queued by then (up to :data:`GROUP_EVENTS` events; its own is at the head), applies
    them in one transaction, hands the lead to the request at the head of what queued
    meanwhile (which does the same), flags the overdrafts its group made and wakes its
    group's requests. One request alone is a group
    of one (it waits for no company). Each waiting request is woken once, when it is
    answered or handed the lead. If a group fails, each of its batches is tried alone,
    so a bad batch fails only its own request.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: deque[_Batch] = field(default_factory=deque)
    busy: bool = False
    """A leader is applying a group; invariant: not busy means the queue is empty."""

    def apply(self, hub: Hub, kiosk_id: str, events: list[LedgerEvent]) -> dict[str, tuple[int, bool]]:
        mine = _Batch(kiosk_id, events)
        with self.lock:
            self.queue.append(mine)
            lead, self.busy = not self.busy, True
        if not lead:
            mine.woken.wait()
        if mine.result is None and mine.error is None:  # our turn to lead (our batch is at the head)
            self._lead(hub)
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    def _lead(self, hub: Hub) -> None:
        group: list[_Batch] = []
        try:
            with self.lock:
                size = 0
                while self.queue and (not group or size + len(self.queue[0].events) <= GROUP_EVENTS):
                    group.append(self.queue.popleft())
                    size += len(group[-1].events)
            self._run(hub, group)
        finally:
            with self.lock:
                heir = self.queue[0] if self.queue else None
                self.busy = heir is not None
            if heir is not None:  # the next group starts while this one's overdrafts are checked
                heir.woken.set()
            applied = [b for b in group if b.result is not None]
            try:
                _flag_overdrafts(hub, applied)
            except Exception as exc:  # unanswered, a kiosk sends them again: then they are checked
                for batch in applied:
                    batch.result, batch.error = None, exc
            finally:
                for batch in group:
                    if batch.result is None and batch.error is None:  # interrupted: never a lead
                        batch.error = RuntimeError("the group commit was interrupted")
                    batch.woken.set()

    @staticmethod
    def _run(hub: Hub, group: list[_Batch]) -> None:
        try:
            results = _apply_ledger_events(hub, group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
                return
            log.warning("a group of %d pushes failed (%s); applying each alone", len(group), exc)
            for batch in group:
                _GroupCommit._run(hub, [batch])
        else:
            for batch, result in zip(group, results, strict=True):
                batch.result = result


_GROUPS: weakref.WeakKeyDictionary[Hub, _GroupCommit] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def _group_commit(hub: Hub) -> _GroupCommit:
    """The group commit of this hub object: one per worker process serving it."""
    with _GROUPS_LOCK:
        found = _GROUPS.get(hub)
        if found is None:
            found = _GROUPS[hub] = _GroupCommit()
        return found


def _row(kiosk_id: str, e: LedgerEvent) -> dict[str, Any]:
    item = e if isinstance(e, RedemptionEvent) else None
    return {
        "volunteer_id": e.volunteer_id,
        "kind": e.kind,
        "amount": SIGN[e.kind] * e.amount,
        "event_id": e.id,
        # the token says which kiosk pushed it; an event's own ``kiosk_id`` cannot overrule it
        "kiosk_id": kiosk_id,
        "at": e.at,
        "item_id": item and item.item_id,
        "item_name": item and item.item_name,
        "unit_price": item and item.unit_price,
        "quantity": item and item.quantity,
        "lane": item and item.lane,
    }


def _apply_ledger_events(hub: Hub, group: list[_Batch]) -> list[dict[str, tuple[int, bool]]]:
    """Apply a group's batches in one transaction; per batch, each event's (seq, duplicate).

    An event id that several batches (or one batch) carry is applied once: the first
    batch to carry it is the one it was applied for, the others get it as a duplicate.
    """
    owner: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for index, batch in enumerate(group):
        for e in batch.events:
            if e.id not in owner:
                owner[e.id] = index
                rows.append(_row(batch.kiosk_id, e))
    with hub.unit() as s:
        con = s.connection()
        if con.dialect.name == "postgresql":
            applied, fresh = _insert_postgresql(hub, s, rows)
        else:
            applied, fresh = _insert_generic(hub, s, rows)
    if len(applied) < len(owner):  # not inserted, yet not found: cannot happen under the lock
        raise RuntimeError("events neither applied nor found in the ledger")
    return [
        {e.id: (applied[e.id], not (e.id in fresh and owner[e.id] == index)) for e in batch.events}
        for index, batch in enumerate(group)
    ]


# PostgreSQL: every row in one statement (one JSON parameter: psycopg dumps a string far
# faster than eleven arrays)
_PG_STRANGERS = text(
    "INSERT INTO volunteers (id, name, flagged) "
    "SELECT v, '', true FROM unnest(CAST(:ids AS varchar[])) AS v ORDER BY v "
    "ON CONFLICT (id) DO NOTHING"
)
_PG_INSERT = text(
    """
    WITH new AS (
        INSERT INTO ledger (id, volunteer_id, kind, amount, event_id, kiosk_id, at,
                            item_id, item_name, unit_price, quantity, lane)
        SELECT CAST(gen_random_uuid() AS varchar), r.volunteer_id, r.kind, r.amount, r.event_id,
               r.kiosk_id, r.at, r.item_id, r.item_name, r.unit_price, r.quantity, r.lane
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
            volunteer_id varchar, kind varchar, amount integer, event_id varchar, kiosk_id varchar,
            at bigint, item_id integer, item_name varchar, unit_price integer, quantity integer,
            lane integer)
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id, seq, volunteer_id, amount
    )
    SELECT event_id, seq FROM new
    """
)
_PG_EARLIER = text("SELECT event_id, seq FROM ledger WHERE event_id = ANY(CAST(:ids AS varchar[]))")


def _insert_postgresql(hub: Hub, s: Session, rows: list[dict[str, Any]]) -> tuple[dict[str, int], set[str]]:
    """Volunteers the hub never heard of (before the lock), the lock, then one
    ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` of every row. Overdrafts are flagged
    after the commit (:func:`_flag_overdrafts`).
    """
    con = s.connection()
    params = {"rows": json.dumps(rows, ensure_ascii=False)}
    # spent here before the hub heard of them: keep it, and flag it. No ledger order is
    # needed for that, so it runs before the lock (sorted: two writers never wait on each
    # other's new volunteers in opposite orders)
    con.execute(_PG_STRANGERS, {"ids": sorted({r["volunteer_id"] for r in rows})})
    hub.lock_ledger(s)
    applied = {str(eid): int(seq) for eid, seq in con.execute(_PG_INSERT, params)}
    fresh = set(applied)
    earlier = [r["event_id"] for r in rows if r["event_id"] not in applied]
    if earlier:  # sent before: acknowledge with the sequence they were applied at then
        applied.update((str(eid), int(seq)) for eid, seq in con.execute(_PG_EARLIER, {"ids": earlier}))
    return applied, fresh


_PG_FLAG = text(
    """
    UPDATE volunteers AS v SET flagged = true
    WHERE v.id = ANY(CAST(:ids AS varchar[])) AND NOT v.flagged
      AND (SELECT sum(l.amount) FROM ledger AS l WHERE l.volunteer_id = v.id AND l.seq <= :upto) < 0
    """
)


def _flag_overdrafts(hub: Hub, batches: list[_Batch]) -> None:
    """PostgreSQL: flag whom a committed group overdrew, outside the ledger lock.

    The balance is taken as of the group's highest sequence: every entry below it was
    committed before the group took the lock and none above it is counted, so it is
    exactly the balance the volunteer had right after the group, as a check under the
    lock would see it, while the next group already holds the lock. The requests are
    answered only after it: if it fails, their kiosks send the events again and the
    repeat is checked (repeats are checked too). SQLite flags inside the transaction.
    """
    spenders = sorted({e.volunteer_id for b in batches for e in b.events if e.kind == "redemption"})
    if not spenders or hub.engine.dialect.name != "postgresql":
        return
    upto = max(seq for b in batches if b.result for seq, _ in b.result.values())
    with hub.unit() as s:
        s.execute(_PG_FLAG, {"ids": spenders, "upto": upto})


def _insert_generic(hub: Hub, s: Session, rows: list[dict[str, Any]]) -> tuple[dict[str, int], set[str]]:
    """SQLite: one ``executemany`` that skips event ids seen before, under the write lock.

    Because no one else writes meanwhile, the entries it made are exactly those above
    the sequence read before it. Volunteers the hub never heard of, and overdrafts, are
    then found from those entries in one statement each, with no per-event parameters.
    """
    hub.lock_ledger(s)
    con = s.connection()
    before = int(con.scalar(select(func.coalesce(func.max(LedgerEntry.seq), 0))) or 0)
    con.execute(
        sqlite_insert(LedgerEntry).on_conflict_do_nothing(index_elements=["event_id"]),
        [{"id": str(uuid.uuid4()), "record_id": None, "note": None, **r} for r in rows],
    )
    new = select(LedgerEntry.event_id, LedgerEntry.seq).where(LedgerEntry.seq > before)
    applied: dict[str, int] = {str(eid): int(seq) for eid, seq in con.execute(new)}
    fresh = set(applied)
    earlier = [r["event_id"] for r in rows if r["event_id"] not in applied]
    if earlier:  # sent before: acknowledge with the sequence they were applied at then
        again = select(LedgerEntry.event_id, LedgerEntry.seq).where(LedgerEntry.event_id.in_(earlier))
        applied.update((str(eid), int(seq)) for eid, seq in con.execute(again))
    _flag_generic(con, before)
    return applied, fresh


def _flag_generic(con: Connection, before: int) -> None:
    touched = select(LedgerEntry.volunteer_id).where(LedgerEntry.seq > before).distinct()
    strangers = touched.where(~select(Volunteer.id).where(Volunteer.id == LedgerEntry.volunteer_id).exists())
    # spent here before the hub heard of them: keep it, and flag it
    con.execute(
        insert(Volunteer).from_select(
            ["id", "name", "flagged"],
            select(strangers.subquery().c.volunteer_id, literal(""), literal(True)),
        )
    )
    # a balance per touched volunteer, each summed by the volunteer_id index
    balance = (
        select(func.sum(LedgerEntry.amount)).where(LedgerEntry.volunteer_id == Volunteer.id).scalar_subquery()
    )
    con.execute(
        update(Volunteer)
        .where(Volunteer.id.in_(touched))
        .where(Volunteer.flagged.is_(False))
        .where(balance < 0)
        .values(flagged=True)
    )


# --- records: audit entries and status reports ------------------------------------------


def _apply_records(
    s: Session, kiosk_id: str, events: list[AuditEvent | StatusEvent], now: float
) -> dict[str, tuple[int, bool]]:
    """Audit entries once each (acknowledged with their own sequence); the newest status kept.

    A status report is not a sequence of anything: it is acknowledged with 0. Bodies are
    kept as the kiosk sent them.
    """
    done: dict[str, tuple[int, bool]] = {}
    audits = {e.id: e for e in events if isinstance(e, AuditEvent)}
    if audits:
        done.update(
            (str(eid), (int(seq), True))
            for eid, seq in s.execute(
                select(KioskEvent.event_id, KioskEvent.seq).where(KioskEvent.event_id.in_(list(audits)))
            )
        )
        fresh = [
            {
                "event_id": e.id,
                "kiosk_id": kiosk_id,
                "kind": e.kind,
                "at": e.at,
                "body": _body(e),
            }
            for e in audits.values()
            if e.id not in done
        ]
        if fresh:
            inserted = s.execute(insert(KioskEvent).returning(KioskEvent.event_id, KioskEvent.seq), fresh)
            done.update((str(eid), (int(seq), False)) for eid, seq in inserted)
    for st in sorted((e for e in events if isinstance(e, StatusEvent)), key=lambda e: e.at):
        row = s.get(KioskStatus, kiosk_id, with_for_update=True)
        body = _body(st)
        if row is None:
            s.add(KioskStatus(kiosk_id=kiosk_id, at=st.at, received_at=int(now), body=body))
            s.flush()
        elif st.at >= row.at:
            row.at, row.received_at, row.body = st.at, int(now), body
        done[st.id] = (0, False)
    return done


def _body(e: AuditEvent | StatusEvent) -> str:
    return json.dumps(e.body.model_dump(mode="json", exclude_unset=True), ensure_ascii=False)


# --- pull ----------------------------------------------------------------------------------


class CursorAhead(ValueError):
    """A pull from a cursor the hub's ledger has not reached (a hub restored from an older copy,
    or a kiosk that talked to another hub)."""

    def __init__(self, cursor: int, head: int) -> None:
        super().__init__(f"cursor {cursor} is past this hub's last sequence {head}")
        self.cursor, self.head = cursor, head


def pull(hub: Hub, cursor: int, limit: int = 5000, kiosk_id: str | None = None) -> PullPage:
    """Volunteers changed after ``cursor``, at most ``limit`` ledger entries' worth.

    One read transaction: on SQLite a snapshot, so the page, its cursor and its balances
    agree; on PostgreSQL the ledger lock makes every entry up to the cursor committed.
    ``kiosk_id`` is the pulling kiosk's own id, told back to it.
    """
    with hub.reading() as s:
        seqs = list(
            s.execute(
                select(LedgerEntry.seq, LedgerEntry.volunteer_id)
                .where(LedgerEntry.seq > cursor)
                .order_by(LedgerEntry.seq)
                .limit(limit + 1)
            )
        )
        more = len(seqs) > limit
        page = seqs[:limit]
        if not page and cursor > 0:
            head = int(s.scalar(select(func.coalesce(func.max(LedgerEntry.seq), 0))) or 0)
            if cursor > head:  # echoed back, a kiosk would store it and never see another change
                raise CursorAhead(cursor, head)
        new_cursor = int(page[-1][0]) if page else cursor
        ids = sorted({vid for _, vid in page})
        volunteers: list[tuple[str, str, int]] = []
        if ids:
            balances: dict[str, int] = {
                str(vid): int(total)
                for vid, total in s.execute(
                    select(LedgerEntry.volunteer_id, func.sum(LedgerEntry.amount))
                    .where(LedgerEntry.volunteer_id.in_(ids))
                    .where(LedgerEntry.seq <= new_cursor)
                    .group_by(LedgerEntry.volunteer_id)
                )
            }
            names: dict[str, str] = {
                str(vid): str(name)
                for vid, name in s.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(ids)))
            }
            volunteers = [(vid, names.get(vid, ""), int(balances.get(vid, 0))) for vid in ids]
        keys = [
            json.loads(k)
            for k in s.scalars(select(SigningKey.public_jwk).where(SigningKey.retired.is_(False)))
        ]
        technicians = [
            TechnicianRecord(id=t.id, name=t.name, pin_hash=t.pin_hash)
            for t in s.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.id))
        ]
    return PullPage(
        protocol=PROTOCOL_VERSION,
        cursor=new_cursor,
        more=more,
        columns=VOLUNTEER_COLUMNS,
        volunteers=volunteers,
        jwks=Jwks(keys=keys),
        revoked=hub.revoked(),
        technicians=technicians,
        kiosk_id=kiosk_id,
    )
