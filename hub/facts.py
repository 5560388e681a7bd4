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

from .ingest import Charge, Facts, JudgedEvent
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


def _rows(events: Sequence[JudgedEvent]) -> str:
    return json.dumps(
        [{"event_id": e.id, "volunteer_id": getattr(e, "volunteer_id", "")} for e in events],
        ensure_ascii=False,
    )


# Each lookup is a scalar subquery or a LATERAL one with a LIMIT, which PostgreSQL never
# makes a join: the volunteers, the ledger and the quarantine are probed by their unique
# indexes event by event, whatever the planner guesses of the group's size (as hash
# joins, a group of fifty events read every volunteer, or the whole ledger of a young hub).
_VOLUNTEER_UNKNOWN = "(SELECT 1 FROM volunteers v WHERE v.id = r.volunteer_id) IS NULL"
_HELD = "(SELECT 1 FROM quarantine q WHERE q.event_id = r.event_id LIMIT 1) IS NOT NULL"


def _applied(con: Connection, table: str, alias: str) -> str:
    """Join ``table``'s entry of each event, if any, as ``alias`` (SQLite's planner probes the index)."""
    if con.dialect.name == "postgresql":
        probe = f"SELECT seq, digest FROM {table} WHERE event_id = r.event_id LIMIT 1"
        return f"LEFT JOIN LATERAL ({probe}) {alias} ON true"
    return f"LEFT JOIN {table} {alias} ON {alias}.event_id = r.event_id"


def ledger_facts(con: Connection, events: Sequence[LedgerEvent]) -> Facts:
    """What the hub holds of ``events``, in one pass over them: whether it knows each
    volunteer, and how each event was applied before or is held in the quarantine; then
    the refusals of those held and the charges the reversals name, if any."""
    sql = (
        f"SELECT r.event_id, r.volunteer_id, {_VOLUNTEER_UNKNOWN}, l.seq, l.digest, {_HELD} "
        f"FROM {_events(con)} {_applied(con, 'ledger', 'l')} "
        # only what is out of the ordinary comes back (new events of known volunteers: none);
        # written out, not as a filtered subquery, whose generic plan PostgreSQL made 10× slower
        f"WHERE {_VOLUNTEER_UNKNOWN} OR l.seq IS NOT NULL OR {_HELD}"
    )
    facts, held = Facts(), []
    for eid, vid, unknown, seq, applied_dg, in_quarantine in con.execute(
        text(sql), {"events": _rows(events)}
    ):
        if unknown:
            facts.unknown.add(str(vid))
        if seq is not None:
            facts.applied[str(eid)] = (int(seq), applied_dg)
        if in_quarantine:
            held.append(str(eid))
    _refused_before(con, facts, held)
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
    """How each audit entry was applied before or refused: one query (two if some were refused)."""
    sql = (
        f"SELECT r.event_id, k.seq, k.digest, {_HELD} FROM {_events(con)} "
        f"{_applied(con, 'kiosk_events', 'k')} WHERE k.seq IS NOT NULL OR {_HELD}"
    )
    facts, held = Facts(), []
    for eid, seq, applied_dg, in_quarantine in con.execute(text(sql), {"events": _rows(events)}):
        if seq is not None:
            facts.applied[str(eid)] = (int(seq), applied_dg)
        if in_quarantine:
            held.append(str(eid))
    _refused_before(con, facts, held)
    return facts


def _refused_before(con: Connection, facts: Facts, held: Sequence[str]) -> None:
    """The refusals of events held in the quarantine, by id and digest."""
    if held:
        sql = f"SELECT event_id, digest, reason FROM quarantine WHERE {one_of(con, 'event_id', 'ids')}"
        for eid, dg, reason in con.execute(text(sql), {"ids": ids(con, held)}):
            facts.refused[(str(eid), str(dg))] = str(reason)


def insert_ignoring(con: Connection, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` (any unique constraint) in the connection's dialect."""
    if con.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def quarantine(con: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Keep refused events (``Quarantined`` rows); one sent again is kept once."""
    if rows:
        con.execute(insert_ignoring(con, Quarantined), list(rows))
