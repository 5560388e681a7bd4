"""The hub's side of kiosk sync: events pushed exactly once, changes pulled by cursor.

Push: events arrive as ``protocol.sync`` models, already validated. Each is judged by
``hub.ingest`` (a repeat, a conflict, the hub's limits, an unknown volunteer, a reversal
of this kiosk's own charge, once) over facts ``hub.facts`` loads for the whole group in
one query at most; a refused event is kept in the quarantine and acknowledged with its reason.
Each carries the kiosk's UUID; the ledger's unique ``event_id`` applies it once, whatever
the retries, and the acknowledgement names the hub sequence it was applied at (the same
sequence for a repeat, told from another event under the same id by its digest). Late
arrivals are kept; an overdraft from offline spending is never refused (the item is
gone): it is recorded and the account is flagged (before the push is answered). A
redemption's entry keeps the item, unit price, quantity and lane the kiosk sent
(protocol 2) and the kiosk the request's token names; a reversal's the charge it gives
back (protocol 3). The batches of requests that arrive together in one worker
process are applied together, in one transaction under the ledger's lock (a group
commit), so 200 kiosks pushing 50 events each share a lock and a commit's flush instead
of queueing for one each.

Pull: the ledger's sequence is the cursor. A page holds the volunteers whose entries
lie in (cursor, new cursor], each a row ``[id, name, balance]`` (``columns`` names them)
with the balance as of the new cursor, so a kiosk that stores the page and its cursor in
one transaction always holds balances that are exact as of a point of the hub's history.
Printed cards' PINs travel the same way, by the ledger sequence they were stamped with
when set or cleared: a page carries those stamped in [the kiosk's PIN cursor, new cursor].
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
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.orm import Session

from protocol.sync import (
    PROTOCOL_VERSION,
    VOLUNTEER_COLUMNS,
    Ack,
    AuditEvent,
    CatalogueEntry,
    Event,
    Jwks,
    LedgerEvent,
    PullPage,
    RedemptionEvent,
    Refused,
    ReversalEvent,
    StatusEvent,
)
from protocol.sync import Technician as TechnicianRecord

from . import ingest
from .facts import ids, insert_ignoring, ledger_facts, one_of, quarantine, record_facts
from .ingest import JudgedEvent
from .models import CardPin, CatalogueItem, KioskEvent, KioskStatus, LedgerEntry, Technician, Volunteer
from .service import Hub, published_keys

log = logging.getLogger(__name__)

SIGN = {"redemption": -1, "reversal": 1}
"""Events that move 益币, with the sign of their ledger entry."""
GROUP_EVENTS = 5000
"""Events applied in one group transaction, at most (a single larger batch goes alone)."""


class Outcome(NamedTuple):
    """What became of one pushed event: its sequence, whether it was a repeat, why it was refused."""

    seq: int
    duplicate: bool
    refused: str | None = None


def push(hub: Hub, kiosk_id: str, events: Sequence[Event]) -> list[Ack]:
    """Judge each event, apply it once or refuse it; acknowledge every event, in order.

    Audit entries and status reports are applied in a transaction of their own (each is
    idempotent by itself); the events that move 益币 go through the worker's group
    commit (:class:`_GroupCommit`). A refused event is acknowledged with sequence 0 and
    its reason, and kept in the quarantine.
    """
    outcomes: list[Outcome | None] = [None] * len(events)
    records = [(i, e) for i, e in enumerate(events) if isinstance(e, AuditEvent | StatusEvent)]
    if records:
        with hub.unit() as s:
            found = _apply_records(s, hub, kiosk_id, [e for _, e in records])
        for (i, _), outcome in zip(records, found, strict=True):
            outcomes[i] = outcome
    money = [(i, e) for i, e in enumerate(events) if not isinstance(e, AuditEvent | StatusEvent)]
    if money:
        ledger_events = [e for _, e in money]  # digests here, on the request's own thread
        found = _group_commit(hub).apply(
            hub, kiosk_id, ledger_events, [ingest.digest(e) for e in ledger_events]
        )
        for (i, _), outcome in zip(money, found, strict=True):
            outcomes[i] = outcome
    refused = [(e, o.refused) for e, o in zip(events, outcomes, strict=True) if o is not None and o.refused]
    if refused:
        reasons = sorted({str(r) for _, r in refused})
        log.warning("kiosk %s: %d event(s) refused (%s)", kiosk_id, len(refused), ", ".join(reasons))
    # built from the hub's own values (validated event ids, sequences from the ledger)
    return [
        Ack.model_construct(id=e.id, seq=o.seq, duplicate=o.duplicate, refused=o.refused)
        for e, o in zip(events, outcomes, strict=True)
        if o is not None
    ]


# --- the ledger's events, a group at a time ------------------------------------------------


@dataclass(eq=False)
class _Batch:
    """One request's ledger events, waiting for a group transaction to apply them."""

    kiosk_id: str
    events: list[LedgerEvent]
    digests: list[str]
    result: list[Outcome] | None = None
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

    def apply(self, hub: Hub, kiosk_id: str, events: list[LedgerEvent], digests: list[str]) -> list[Outcome]:
        mine = _Batch(kiosk_id, events, digests)
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


def _row(kiosk_id: str, e: LedgerEvent, dg: str) -> dict[str, Any]:
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
        "digest": dg,
        "reverses": e.reverses if isinstance(e, ReversalEvent) else None,
    }


def _quarantined(kiosk_id: str, e: JudgedEvent, dg: str, reason: str, now: float) -> dict[str, Any]:
    return {
        "event_id": e.id,
        "digest": dg,
        "kiosk_id": kiosk_id,
        "kind": e.kind,
        "reason": reason,
        "event": e.model_dump_json(exclude_unset=True),
        "received_at": int(now),
    }


def _apply_ledger_events(hub: Hub, group: list[_Batch]) -> list[list[Outcome]]:
    """Judge and apply a group's batches in one transaction; per batch, each event's outcome.

    The rules are ``hub.ingest``'s; the facts they need come in one set-based query a
    group, before the ledger's lock (on PostgreSQL; SQLite's transaction holds its write
    lock throughout): what it finds only ever grows, and what another worker applies
    meanwhile is caught by the insert's ``ON CONFLICT DO NOTHING`` and read back. On
    PostgreSQL a group with no reversal (nearly every group: charges) skips that query:
    it is judged as new events of known volunteers, and the insert itself checks exactly
    that (a known volunteer, no refusal of this content, no entry with this id); the few
    events it does not insert, or the rules refuse, are then looked up and judged again
    with their facts. Refusals go to the quarantine, and the outcomes are worked out after
    the commit, so the lock is held for the insert alone. An event id that several
    batches (or one batch) carry is applied once: the first batch to carry it is the one
    it was applied for, the others get it as a repeat.
    """
    now = hub.clock()
    batches = [(b.kiosk_id, b.events, b.digests) for b in group]
    events = [e for b in group for e in b.events]
    rows = [_row(b.kiosk_id, e, dg) for b in group for e, dg in zip(b.events, b.digests, strict=True)]
    with hub.unit() as s:
        con = s.connection()
        pg = con.dialect.name == "postgresql"
        checked = pg and not any(isinstance(e, ReversalEvent) for e in events)
        facts = ingest.Facts() if checked else ledger_facts(con, events)
        judged = _judge(hub, batches, facts, now)
        if checked and any(v.refused for mine in judged for v in mine):  # a repeat, refused by today's rules?
            facts = ledger_facts(
                con, [e for e, v in zip(events, _verdicts(judged), strict=True) if v.refused]
            )
            judged = _judge(hub, batches, facts, now)
        quarantine(con, _refusals(batches, judged, now))
        applying = [row for row, v in zip(rows, _verdicts(judged), strict=True) if v.apply]
        inserted = _insert_postgresql(hub, s, applying, checked) if pg else _insert_generic(hub, s, applying)
        raced: dict[str, tuple[int, str | None]] = {}
        missed = [
            e for e, v in zip(events, _verdicts(judged), strict=True) if v.apply and e.id not in inserted
        ]
        if missed and checked:  # not inserted: judged again with what the hub holds of them
            first = _refusals(batches, judged, now)
            facts.merge(ledger_facts(con, missed))
            judged = _judge(hub, batches, facts, now)
            quarantine(con, [q for q in _refusals(batches, judged, now) if q not in first])
        elif missed:  # another worker applied some first: read them back
            raced = _read_back(con, "ledger", {e.id for e in missed})
            quarantine(con, _raced_refusals(batches, _verdicts(judged), inserted, raced, now))
    return _outcomes(batches, judged, facts, inserted, raced)


Batches = Sequence[tuple[str, Sequence[JudgedEvent], Sequence[str]]]


def _judge(hub: Hub, batches: Batches, facts: ingest.Facts, now: float) -> list[list[ingest.Verdict]]:
    return ingest.judge(
        [(kiosk_id, list(zip(events, digests, strict=True))) for kiosk_id, events, digests in batches],
        facts,
        hub.limits,
        now,
    )


def _verdicts(judged: Sequence[Sequence[ingest.Verdict]]) -> list[ingest.Verdict]:
    return [v for mine in judged for v in mine]


def _refusals(
    batches: Batches, judged: Sequence[Sequence[ingest.Verdict]], now: float
) -> list[dict[str, Any]]:
    """The quarantine's rows for the events refused for the first time."""
    verdicts = _verdicts(judged)
    if not any(v.refused is not None and not v.duplicate for v in verdicts):
        return []
    return [
        _quarantined(kiosk_id, e, dg, v.refused, now)
        for (kiosk_id, e, dg), v in zip(_flat(batches), verdicts, strict=True)
        if v.refused is not None and not v.duplicate
    ]


def _flat(batches: Batches) -> list[tuple[str, JudgedEvent, str]]:
    return [(k, e, dg) for k, events, digests in batches for e, dg in zip(events, digests, strict=True)]


def _raced_refusals(
    batches: Batches,
    verdicts: Sequence[ingest.Verdict],
    inserted: dict[str, int],
    raced: dict[str, tuple[int, str | None]],
    now: float,
) -> list[dict[str, Any]]:
    """The quarantine's rows for events meant to be applied that a race refused."""
    found = []
    for (kiosk_id, e, dg), v in zip(_flat(batches), verdicts, strict=True):
        if v.apply and e.id not in inserted:
            reason = _raced(e, dg, raced).refused
            if reason is not None:
                found.append(_quarantined(kiosk_id, e, dg, reason, now))
    return found


def _outcomes(
    batches: Batches,
    judged: Sequence[Sequence[ingest.Verdict]],
    facts: ingest.Facts,
    inserted: dict[str, int],
    raced: dict[str, tuple[int, str | None]],
) -> list[list[Outcome]]:
    """What became of each judged event once the ones to apply were inserted."""
    if all(
        v.apply and e.id in inserted for (_, e, _), v in zip(_flat(batches), _verdicts(judged), strict=True)
    ):
        return [[Outcome(inserted[e.id], False) for e in events] for _, events, _ in batches]  # all applied
    outcomes: list[list[Outcome]] = []
    first: dict[tuple[str, str], Outcome] = {}
    for (_, events, digests), verdicts in zip(batches, judged, strict=True):
        mine: list[Outcome] = []
        for e, dg, v in zip(events, digests, verdicts, strict=True):
            if v.apply and e.id in inserted:
                done = Outcome(inserted[e.id], False)
            elif (e.id, dg) in first:  # earlier in this group: the same outcome, as a repeat
                done = first[(e.id, dg)]._replace(duplicate=True)
            elif v.apply:  # another worker applied it, or gave the charge back, meanwhile
                done = _raced(e, dg, raced)
            elif v.refused is not None:
                done = Outcome(0, v.duplicate, v.refused)
            else:
                done = Outcome(facts.applied[e.id][0], True)
            first.setdefault((e.id, dg), done)
            mine.append(done)
        outcomes.append(mine)
    return outcomes


def _read_back(con: Connection, table: str, event_ids: set[str]) -> dict[str, tuple[int, str | None]]:
    """Sequence and digest of events another writer applied first (``ledger`` or ``kiosk_events``)."""
    sql = f"SELECT event_id, seq, digest FROM {table} WHERE {one_of(con, 'event_id', 'ids')}"
    return {str(eid): (int(seq), dg) for eid, seq, dg in con.execute(text(sql), {"ids": ids(con, event_ids)})}


def _raced(e: JudgedEvent, dg: str, found: dict[str, tuple[int, str | None]]) -> Outcome:
    if e.id in found:
        seq, theirs = found[e.id]
        return Outcome(seq, True) if theirs in (None, dg) else Outcome(0, False, Refused.CONFLICT)
    if isinstance(e, ReversalEvent):  # the unique ``reverses``: its charge was given back meanwhile
        return Outcome(0, False, Refused.ALREADY_REVERSED)
    raise RuntimeError(f"event {e.id} neither applied nor found in the ledger")


# PostgreSQL: every row in one statement (one JSON parameter: psycopg dumps a string far
# faster than thirteen arrays; read as json, not jsonb, which PostgreSQL parses slower)
_PG_INSERT = """
    INSERT INTO ledger (id, volunteer_id, kind, amount, event_id, kiosk_id, at,
                        item_id, item_name, unit_price, quantity, lane, digest, reverses)
    SELECT CAST(gen_random_uuid() AS varchar), r.volunteer_id, r.kind, r.amount, r.event_id,
           r.kiosk_id, r.at, r.item_id, r.item_name, r.unit_price, r.quantity, r.lane, r.digest,
           r.reverses
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        volunteer_id varchar, kind varchar, amount integer, event_id varchar, kiosk_id varchar,
        at bigint, item_id integer, item_name varchar, unit_price integer, quantity integer,
        lane integer, digest varchar, reverses varchar)
    {where}
    ON CONFLICT DO NOTHING
    RETURNING event_id, seq
    """
_PG_INSERT_AS_JUDGED = text(_PG_INSERT.format(where=""))
# what a group judged with no facts took for granted, checked row by row (scalar subqueries:
# index probes, never a join that reads every volunteer)
_PG_INSERT_CHECKED = text(
    _PG_INSERT.format(
        where="WHERE (SELECT 1 FROM volunteers v WHERE v.id = r.volunteer_id) IS NOT NULL "
        "AND (SELECT 1 FROM quarantine q WHERE q.event_id = r.event_id AND q.digest = r.digest) IS NULL"
    )
)


def _insert_postgresql(hub: Hub, s: Session, rows: list[dict[str, Any]], checked: bool) -> dict[str, int]:
    """The lock, then one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` of every row
    (``checked``: only of those whose volunteer the hub knows and whose content it has
    not refused before).

    A row another worker applied first (its event id, or its reversal's charge, now taken)
    is skipped and read back. Overdrafts are flagged after the commit (:func:`_flag_overdrafts`).
    """
    if not rows:
        return {}
    params = {"rows": json.dumps(rows, ensure_ascii=False)}  # before the lock
    hub.lock_ledger(s)
    statement = _PG_INSERT_CHECKED if checked else _PG_INSERT_AS_JUDGED
    return {str(eid): int(seq) for eid, seq in s.connection().execute(statement, params)}


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
    applied = [
        (e, o) for b in batches for e, o in zip(b.events, b.result or [], strict=False) if not o.refused
    ]
    spenders = sorted({e.volunteer_id for e, _ in applied if e.kind == "redemption"})
    if not spenders or hub.engine.dialect.name != "postgresql":
        return
    with hub.unit() as s:
        s.execute(_PG_FLAG, {"ids": spenders, "upto": max(o.seq for _, o in applied)})


def _insert_generic(hub: Hub, s: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """SQLite: one ``executemany`` that skips event ids seen before, under the write lock.

    Because no one else writes meanwhile, the entries it made are exactly those above
    the sequence read before it. Overdrafts are then found from those entries in one
    statement, with no per-event parameters.
    """
    if not rows:
        return {}
    hub.lock_ledger(s)
    con = s.connection()
    before = int(con.scalar(select(func.coalesce(func.max(LedgerEntry.seq), 0))) or 0)
    con.execute(
        insert_ignoring(con, LedgerEntry),
        [{"id": str(uuid.uuid4()), "record_id": None, "note": None, **r} for r in rows],
    )
    new = select(LedgerEntry.event_id, LedgerEntry.seq).where(LedgerEntry.seq > before)
    applied: dict[str, int] = {str(eid): int(seq) for eid, seq in con.execute(new)}
    _flag_generic(con, before)
    return applied


def _flag_generic(con: Connection, before: int) -> None:
    touched = select(LedgerEntry.volunteer_id).where(LedgerEntry.seq > before).distinct()
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
    s: Session, hub: Hub, kiosk_id: str, events: list[AuditEvent | StatusEvent]
) -> list[Outcome]:
    """Audit entries judged and applied once each (acknowledged with their own sequence);
    the newest status report kept.

    An audit entry is judged as a ledger event is (a repeat, a conflict, its time); a
    refused one goes to the quarantine. Two pushes of one entry at once both succeed
    (``ON CONFLICT DO NOTHING``, then read back). A status report is not a sequence of
    anything: it is acknowledged with 0, or refused with no quarantine when its time is
    out of bounds (the next report replaces it anyway). Bodies are kept as sent.
    """
    now = hub.clock()
    con = s.connection()
    outcomes: dict[int, Outcome] = {}
    audits = [(i, e) for i, e in enumerate(events) if isinstance(e, AuditEvent)]
    if audits:
        batch = [(kiosk_id, [e for _, e in audits], [ingest.digest(e) for _, e in audits])]
        facts = record_facts(con, batch[0][1])
        judged = ingest.judge([(kiosk_id, list(zip(*batch[0][1:], strict=True)))], facts, hub.limits, now)
        flat = list(zip(_flat(batch), judged[0], strict=True))
        quarantine(
            con,
            [
                _quarantined(k, e, dg, v.refused, now)
                for (k, e, dg), v in flat
                if v.refused is not None and not v.duplicate
            ],
        )
        fresh = [
            {"event_id": e.id, "kiosk_id": k, "kind": e.kind, "at": e.at, "body": _body(e), "digest": dg}
            for (k, e, dg), v in flat
            if isinstance(e, AuditEvent) and v.apply
        ]
        inserted: dict[str, int] = {}
        if fresh:
            stmt = insert_ignoring(con, KioskEvent).returning(KioskEvent.event_id, KioskEvent.seq)
            inserted = {str(eid): int(seq) for eid, seq in s.execute(stmt, fresh)}
        raced: dict[str, tuple[int, str | None]] = {}
        if len(inserted) < len(fresh):  # pushed twice at once: the other push applied it
            raced = _read_back(con, "kiosk_events", {str(r["event_id"]) for r in fresh} - inserted.keys())
            quarantine(con, _raced_refusals(batch, judged[0], inserted, raced, now))
        (done,) = _outcomes(batch, judged, facts, inserted, raced)
        outcomes.update((i, o) for (i, _), o in zip(audits, done, strict=True))
    statuses = sorted(
        ((i, e) for i, e in enumerate(events) if isinstance(e, StatusEvent)), key=lambda x: x[1].at
    )
    for i, st in statuses:
        reason = hub.limits.time_refusal(st.at, now)
        outcomes[i] = Outcome(0, False, reason)
        if reason is not None:
            continue
        row = s.get(KioskStatus, kiosk_id, with_for_update=True)
        body = _body(st)
        if row is None:
            s.add(KioskStatus(kiosk_id=kiosk_id, at=st.at, received_at=int(now), body=body))
            s.flush()
        elif st.at >= row.at:
            row.at, row.received_at, row.body = st.at, int(now), body
    return [outcomes[i] for i in range(len(events))]


def _body(e: AuditEvent | StatusEvent) -> str:
    return json.dumps(e.body.model_dump(mode="json", exclude_unset=True), ensure_ascii=False)


# --- pull ----------------------------------------------------------------------------------


class CursorAhead(ValueError):
    """A pull from a cursor the hub's ledger has not reached (a hub restored from an older copy,
    or a kiosk that talked to another hub)."""

    def __init__(self, cursor: int, head: int) -> None:
        super().__init__(f"cursor {cursor} is past this hub's last sequence {head}")
        self.cursor, self.head = cursor, head


def pull(
    hub: Hub,
    cursor: int,
    limit: int = 5000,
    kiosk_id: str | None = None,
    pins_cursor: int | None = None,
    honour_stamp: str | None = None,
) -> PullPage:
    """Volunteers changed after ``cursor``, at most ``limit`` ledger entries' worth.

    One read transaction: on SQLite a snapshot, so the page, its cursor and its balances
    agree; on PostgreSQL the ledger lock makes every entry up to the cursor committed.
    ``kiosk_id`` is the pulling kiosk's own id, told back to it. The card PINs set or
    cleared at a stamp in [``pins_cursor`` (else ``cursor``), new cursor] come with the
    page (:func:`_card_pins`). The kiosk's honour roll comes when it is not the one
    ``honour_stamp`` names.
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
        keys = published_keys(s, hub.clock())
        technicians = [
            TechnicianRecord(id=t.id, name=t.name, pin_hash=t.pin_hash)
            for t in s.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.id))
        ]
        card_pins = _card_pins(s, cursor if pins_cursor is None else min(pins_cursor, cursor), new_cursor)
        catalogue = _catalogue(s)
        board = hub.boards.get(s, kiosk_id, hub.clock()) if kiosk_id else None
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
        card_pins=card_pins,
        catalogue=catalogue,
        honour=None if board is None or board.stamp == honour_stamp else board,
    )


def _catalogue(s: Session) -> list[CatalogueEntry]:
    """The fleet's catalogue as every page carries it: the items on sale (at most 1000)."""
    q = select(CatalogueItem).where(CatalogueItem.active.is_(True)).order_by(CatalogueItem.id).limit(1000)
    return [
        CatalogueEntry(id=i.id, name_zh=i.name_zh, name_en=i.name_en, price=i.price, picture=i.picture)
        for i in s.scalars(q)
    ]


def _card_pins(s: Session, since: int, upto: int) -> list[tuple[str, str | None]]:
    """``[volunteer_id, pin_hash]`` of the card PINs stamped in [since, upto] (a cleared one: None).

    Both ends are included. A PIN is stamped, under the ledger's lock, with the last
    sequence committed before it (``Hub.set_card_pin``), so every entry above the stamp
    was committed after the PIN: a page that reaches past the stamp was read after it and
    carries it, and a page that ends at the stamp itself (read before or after it) is
    followed by pulls from that cursor, which carry it again until the ledger moves on.
    """
    rows = s.execute(
        select(CardPin.volunteer_id, CardPin.pin_hash)
        .where(CardPin.stamp >= since, CardPin.stamp <= upto)
        .order_by(CardPin.volunteer_id)
    )
    return [(str(vid), pin_hash) for vid, pin_hash in rows]
