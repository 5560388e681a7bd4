"""The hub's side of kiosk sync: events pushed exactly once, changes pulled by cursor.

Push: each event carries the kiosk's UUID; the ledger's unique ``event_id`` applies it
once, whatever the retries, and the acknowledgement names the hub sequence it was
applied at (the same sequence for a repeat). Late arrivals are kept; an overdraft from
offline spending is never refused (the item is gone): it is recorded and the account
is flagged.

Pull: the ledger's sequence is the cursor. A page holds the volunteers whose entries
lie in (cursor, new cursor], each a row ``[id, name, balance]`` (``columns`` names them)
with the balance as of the new cursor, so a kiosk
that stores the page and its cursor in one transaction always holds balances that are
exact as of a point of the hub's history.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import KioskEvent, KioskStatus, LedgerEntry, SigningKey, Technician, Volunteer
from .service import Hub

EVENT_KINDS = {"redemption": -1, "reversal": 1}
"""Events that move 益币, with the sign of their ledger entry."""
RECORD_KINDS = ("audit", "status")
VOLUNTEER_COLUMNS = ("id", "name", "balance")
"""A pull page's volunteers are rows in this order: a first sync brings millions."""


class BadEvent(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    """One event a kiosk pushes: a ledger event (redemption, reversal) or a record of it.

    ``audit`` (a technician's change, applied once like the ledger's events) and
    ``status`` (stock per lane, faults, sync state: only the newest is kept) carry a
    ``body`` and move no 益币.
    """

    id: str
    kind: str
    volunteer_id: str
    amount: int
    at: int
    body: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        try:
            kind = str(data["kind"])
            ledger = kind in EVENT_KINDS
            event = cls(
                id=str(uuid.UUID(str(data["id"]))),
                kind=kind,
                volunteer_id=str(data["volunteer_id"]) if ledger else "",
                amount=data["amount"] if ledger else 0,
                at=int(data["at"]),
                body=None if ledger else data["body"],
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise BadEvent(f"bad event: {exc}") from exc
        if not ledger and kind not in RECORD_KINDS:
            raise BadEvent(f"unknown event kind {event.kind!r}")
        if ledger and (
            not isinstance(event.amount, int) or isinstance(event.amount, bool) or event.amount <= 0
        ):
            raise BadEvent("amount is a positive whole number of 益币")
        if not ledger and not isinstance(event.body, dict):
            raise BadEvent(f"a {kind} event carries a body object")
        return event


def push(hub: Hub, kiosk_id: str, events: list[Event]) -> list[dict[str, Any]]:
    """Apply each event once; acknowledge every event with the sequence it was applied at.

    One transaction for the batch, holding the ledger's write lock (see
    :meth:`Hub.lock_ledger`): the batch is inserted with one ``executemany`` that skips
    event ids seen before (the unique ``event_id`` decides), and because no one else
    writes meanwhile, the entries it made are exactly those above the sequence read
    before it. Volunteers the hub never heard of, and overdrafts, are then found from
    those entries in one statement each, with no per-event parameters.
    """
    money = [e for e in events if e.kind in EVENT_KINDS]
    unique = {e.id: e for e in money}
    with hub.unit() as s:
        records = _apply_records(s, kiosk_id, [e for e in events if e.kind not in EVENT_KINDS], hub.clock())
        if not money:
            return [{"id": e.id, "seq": records[e.id][0], "duplicate": records[e.id][1]} for e in events]
        hub.lock_ledger(s)
        con = s.connection()
        before = int(con.scalar(select(func.coalesce(func.max(LedgerEntry.seq), 0))) or 0)
        rows = [
            {
                "id": str(uuid.uuid4()),
                "volunteer_id": e.volunteer_id,
                "kind": e.kind,
                "amount": EVENT_KINDS[e.kind] * e.amount,
                "event_id": e.id,
                "kiosk_id": kiosk_id,
                "at": e.at,
                "record_id": None,
                "note": None,
            }
            for e in unique.values()
        ]
        con.execute(
            _insert(con.dialect.name, LedgerEntry).on_conflict_do_nothing(index_elements=["event_id"]), rows
        )
        new = select(LedgerEntry.event_id, LedgerEntry.seq).where(LedgerEntry.seq > before)
        applied: dict[str, int] = {str(eid): int(seq) for eid, seq in con.execute(new)}
        earlier = set(unique) - set(applied)
        if earlier:  # sent before: acknowledge with the sequence they were applied at then
            again = select(LedgerEntry.event_id, LedgerEntry.seq).where(
                LedgerEntry.event_id.in_(list(earlier))
            )
            applied.update({str(eid): int(seq) for eid, seq in con.execute(again)})
        if len(applied) < len(unique):  # not inserted, yet not found: cannot happen under the lock
            raise RuntimeError("events neither applied nor found in the ledger")
        touched = select(LedgerEntry.volunteer_id).where(LedgerEntry.seq > before).distinct()
        strangers = touched.where(
            ~select(Volunteer.id).where(Volunteer.id == LedgerEntry.volunteer_id).exists()
        )
        # spent here before the hub heard of them: keep it, and flag it
        con.execute(
            insert(Volunteer).from_select(
                ["id", "name", "flagged"],
                select(strangers.subquery().c.volunteer_id, literal(""), literal(True)),
            )
        )
        # a balance per touched volunteer, each summed by the volunteer_id index
        balance = (
            select(func.sum(LedgerEntry.amount))
            .where(LedgerEntry.volunteer_id == Volunteer.id)
            .scalar_subquery()
        )
        con.execute(
            update(Volunteer)
            .where(Volunteer.id.in_(touched))
            .where(Volunteer.flagged.is_(False))
            .where(balance < 0)
            .values(flagged=True)
        )
    acks: list[dict[str, Any]] = []
    for e in events:
        if e.id in records:
            acks.append({"id": e.id, "seq": records[e.id][0], "duplicate": records[e.id][1]})
        else:
            acks.append({"id": e.id, "seq": applied[e.id], "duplicate": e.id in earlier})
    return acks


def _insert(dialect: str, table: Any) -> Any:
    """An INSERT that can skip rows already there (``ON CONFLICT DO NOTHING``), per dialect."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def _apply_records(s: Session, kiosk_id: str, events: list[Event], now: float) -> dict[str, tuple[int, bool]]:
    """Audit entries once each (acknowledged with their own sequence); the newest status kept.

    A status report is not a sequence of anything: it is acknowledged with 0.
    """
    done: dict[str, tuple[int, bool]] = {}
    audits = {e.id: e for e in events if e.kind == "audit"}
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
                "body": json.dumps(e.body, ensure_ascii=False),
            }
            for e in audits.values()
            if e.id not in done
        ]
        if fresh:
            inserted = s.execute(insert(KioskEvent).returning(KioskEvent.event_id, KioskEvent.seq), fresh)
            done.update((str(eid), (int(seq), False)) for eid, seq in inserted)
    for e in sorted((e for e in events if e.kind == "status"), key=lambda e: e.at):
        row = s.get(KioskStatus, kiosk_id, with_for_update=True)
        body = json.dumps(e.body, ensure_ascii=False)
        if row is None:
            s.add(KioskStatus(kiosk_id=kiosk_id, at=e.at, received_at=int(now), body=body))
            s.flush()
        elif e.at >= row.at:
            row.at, row.received_at, row.body = e.at, int(now), body
        done[e.id] = (0, False)
    return done


def pull(hub: Hub, cursor: int, limit: int = 5000) -> dict[str, Any]:
    """Volunteers changed after ``cursor``, at most ``limit`` ledger entries' worth.

    One read transaction: on SQLite a snapshot, so the page, its cursor and its balances
    agree; on PostgreSQL the ledger lock makes every entry up to the cursor committed.
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
        new_cursor = int(page[-1][0]) if page else cursor
        ids = sorted({vid for _, vid in page})
        volunteers: list[list[Any]] = []
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
            volunteers = [[vid, names.get(vid, ""), int(balances.get(vid, 0))] for vid in ids]
        keys = [
            json.loads(k)
            for k in s.scalars(select(SigningKey.public_jwk).where(SigningKey.retired.is_(False)))
        ]
        technicians = [
            {"id": t.id, "name": t.name, "pin_hash": t.pin_hash}
            for t in s.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.id))
        ]
    return {
        "cursor": new_cursor,
        "more": more,
        "columns": list(VOLUNTEER_COLUMNS),
        "volunteers": volunteers,
        "jwks": {"keys": keys},
        "revoked": hub.revoked(),
        "technicians": technicians,
    }
