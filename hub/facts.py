"""What the hub's rules (``hub.ingest``) need to know of a group of pushed events, and
the quarantine where the events they refuse are kept.

Every lookup is one set-based statement for the whole group, whatever its size: the
ids travel as one parameter (a PostgreSQL array, a JSON array that SQLite's
``json_each`` reads), never one round trip or one bound parameter per event.
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


def ledger_facts(con: Connection, events: Sequence[LedgerEvent]) -> Facts:
    """The volunteers, earlier applications and refusals, and named charges of ``events``: one query."""
    named = [e.reverses for e in events if isinstance(e, ReversalEvent) and e.reverses]
    parts = [
        f"SELECT 'v', id, NULL, NULL, NULL, 0 FROM volunteers WHERE {one_of(con, 'id', 'vids')}",
        f"SELECT 'l', event_id, digest, NULL, NULL, seq FROM ledger WHERE {one_of(con, 'event_id', 'eids')}",
        _REFUSED.format(where=one_of(con, "event_id", "eids")),
    ]
    params = {"vids": ids(con, (e.volunteer_id for e in events)), "eids": ids(con, (e.id for e in events))}
    if named:
        parts.append(
            "SELECT 'c', c.event_id, c.kiosk_id, c.volunteer_id, r.event_id, -c.amount "
            "FROM ledger c LEFT JOIN ledger r ON r.reverses = c.event_id "
            f"WHERE c.kind = 'redemption' AND {one_of(con, 'c.event_id', 'cids')}"
        )
        params["cids"] = ids(con, named)
    facts = Facts()
    for kind, key, a, b, c, n in con.execute(text(" UNION ALL ".join(parts)), params):
        if kind == "v":
            facts.volunteers.add(str(key))
        elif kind == "l":
            facts.applied[str(key)] = (int(n), a)
        elif kind == "q":
            facts.refused[(str(key), str(a))] = str(b)
        else:
            facts.charges[str(key)] = Charge(a, str(b), int(n), reversed=c is not None)
    return facts


_REFUSED = "SELECT 'q', event_id, digest, reason, NULL, 0 FROM quarantine WHERE {where}"


def record_facts(con: Connection, events: Sequence[AuditEvent]) -> Facts:
    """Earlier applications and refusals of audit entries: one query."""
    where = one_of(con, "event_id", "eids")
    sql = f"SELECT 'l', event_id, digest, NULL, NULL, seq FROM kiosk_events WHERE {where} UNION ALL "
    facts = Facts()
    for kind, key, a, b, _, n in con.execute(
        text(sql + _REFUSED.format(where=where)), {"eids": ids(con, (e.id for e in events))}
    ):
        if kind == "l":
            facts.applied[str(key)] = (int(n), a)
        else:
            facts.refused[(str(key), str(a))] = str(b)
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
