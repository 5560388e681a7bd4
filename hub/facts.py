"""What the hub's rules (``hub.ingest``) need to know of a group of pushed events, and
the quarantine where the events they refuse are kept.

Every lookup is one set-based statement for the whole group, whatever its size: the
events travel as one JSON parameter (PostgreSQL's ``jsonb_to_recordset``, SQLite's
``json_each``) or the ids as one array, never one round trip or one bound parameter
per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from protocol.sync import AuditEvent, LedgerEvent, ReversalEvent

from .ingest import Charge, Facts
from .models import Quarantined


def one_of(con: Connection, column: str, param: str) -> str:
    """SQL for ``column`` being one of the ids in the parameter ``param`` (see :func:`ids`)."""
    if con.dialect.name == "postgresql":
        return f"{column} = ANY(CAST(:{param} AS varchar[]))"
    return f"{column} IN (SELECT value FROM json_each(:{param}))"


def ids(con: Connection, values: Iterable[str]) -> Any:
    """The parameter value :func:`one_of` reads: a list for PostgreSQL, JSON text for SQLite."""
    listed = sorted(set(values))
    return listed if con.dialect.name == "postgresql" else json.dumps(listed)


def _events(con: Connection) -> str:
    """The group's events as a table ``r(event_id, volunteer_id)``, read from one JSON
    parameter ``:events`` (just those two: PostgreSQL parses all of it)."""
    if con.dialect.name == "postgresql":
        return "jsonb_to_recordset(CAST(:events AS jsonb)) AS r(event_id varchar, volunteer_id varchar)"
    return (
        "(SELECT json_extract(value, '$.event_id') AS event_id, "
        "json_extract(value, '$.volunteer_id') AS volunteer_id FROM json_each(:events)) AS r"
    )


def ledger_facts(con: Connection, events: Sequence[LedgerEvent]) -> Facts:
    """What the hub holds of ``events``: one pass that returns only what is out of the
    ordinary (a volunteer it does not know, an event applied or refused before), so a
    group of new events from known volunteers comes back empty; then the charges the
    reversals name, if any."""
    rows = json.dumps(
        [{"event_id": e.id, "volunteer_id": e.volunteer_id} for e in events], ensure_ascii=False
    )
    sql = (
        f"SELECT r.event_id, r.volunteer_id, v.id IS NULL, l.seq, l.digest, q.digest, q.reason "
        f"FROM {_events(con)} LEFT JOIN volunteers v ON v.id = r.volunteer_id "
        "LEFT JOIN ledger l ON l.event_id = r.event_id LEFT JOIN quarantine q ON q.event_id = r.event_id "
        "WHERE v.id IS NULL OR l.seq IS NOT NULL OR q.seq IS NOT NULL"
    )
    facts = Facts()
    for eid, vid, unknown, seq, dg, refused_dg, reason in con.execute(text(sql), {"events": rows}):
        if unknown:
            facts.unknown.add(str(vid))
        if seq is not None:
            facts.applied[str(eid)] = (int(seq), dg)
        if reason is not None:
            facts.refused[(str(eid), str(refused_dg))] = str(reason)
    named = [e.reverses for e in events if isinstance(e, ReversalEvent) and e.reverses]
    if named:
        charges = (
            "SELECT c.event_id, c.kiosk_id, c.volunteer_id, -c.amount, r.event_id "
            "FROM ledger c LEFT JOIN ledger r ON r.reverses = c.event_id "
            f"WHERE c.kind = 'redemption' AND {one_of(con, 'c.event_id', 'ids')}"
        )
        for eid, kiosk, vid, amount, reversal in con.execute(text(charges), {"ids": ids(con, named)}):
            facts.charges[str(eid)] = Charge(kiosk, str(vid), int(amount), reversed=reversal is not None)
    return facts


def record_facts(con: Connection, events: Sequence[AuditEvent]) -> Facts:
    """How each audit entry was applied or refused before: one query."""
    rows = json.dumps([{"event_id": e.id} for e in events])
    sql = (
        f"SELECT r.event_id, k.seq, k.digest, q.digest, q.reason FROM {_events(con)} "
        "LEFT JOIN kiosk_events k ON k.event_id = r.event_id "
        "LEFT JOIN quarantine q ON q.event_id = r.event_id "
        "WHERE k.seq IS NOT NULL OR q.seq IS NOT NULL"
    )
    facts = Facts()
    for eid, seq, dg, refused_dg, reason in con.execute(text(sql), {"events": rows}):
        if seq is not None:
            facts.applied[str(eid)] = (int(seq), dg)
        if reason is not None:
            facts.refused[(str(eid), str(refused_dg))] = str(reason)
    return facts


def insert_ignoring(con: Connection, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` (any unique constraint) in the connection's dialect."""
    if con.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def quarantine(con: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Keep refused events (``Quarantined`` rows); one sent again is kept once."""
    if rows:
        con.execute(insert_ignoring(con, Quarantined), list(rows))
