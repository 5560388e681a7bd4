"""The outbox: events for the hub, written in the transaction of what they report.

A ledger event (``redemption``, ``reversal``) names its entry; a record (``audit``)
carries its body. Events are read back in the order they were written and marked with
the hub sequence they were applied at. Plain SQL, as the ledger (a redemption writes one).
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any

_INSERT = (
    "INSERT INTO outbox (event_id, entry_id, kind, volunteer_id, amount, at, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What the contract's names may not hold (``protocol.sync.TEXT_PATTERN``)."""


def _printable(text: str) -> str:
    return _CONTROL.sub(" ", text)


class OutboxRepository:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(
        self,
        kind: str,
        at: int,
        *,
        entry_id: str | None = None,
        volunteer_id: str = "",
        amount: int = 0,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        text = None if body is None else json.dumps(body, ensure_ascii=False)
        event = (str(uuid.uuid4()), entry_id or str(uuid.uuid4()), kind, volunteer_id, amount, at, text)
        self.db.execute(_INSERT, event)

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """The oldest events not acknowledged, in the order they were written.

        A redemption carries what a report needs: quantity 1 and its unit price (what was
        charged for the one item), and from its ledger entry and the items table the
        item's id and name and the lane, when the entry names them. A reversal names the
        event of the charge it gives back (its entry's ``ref`` is the charge's entry).
        """
        rows = self.db.execute(
            "SELECT o.event_id, o.kind, o.volunteer_id, o.amount, o.at, o.body, "
            "l.item_id, i.name_zh, l.lane, c.event_id FROM outbox o LEFT JOIN ledger l ON l.id = o.entry_id "
            "LEFT JOIN items i ON i.id = l.item_id "
            "LEFT JOIN outbox c ON o.kind = 'reversal' AND c.entry_id = l.ref "
            "WHERE o.acked_seq IS NULL ORDER BY o.at, o.rowid LIMIT ?",
            (limit,),
        )
        events: list[dict[str, Any]] = []
        for event_id, kind, volunteer_id, amount, at, body, item_id, item_name, lane, charge in rows:
            if body is not None:
                events.append({"id": event_id, "kind": kind, "at": at, "body": json.loads(body)})
                continue
            event = {"id": event_id, "kind": kind, "volunteer_id": volunteer_id, "amount": amount, "at": at}
            if kind == "reversal" and charge is not None:
                event["reverses"] = charge
            if kind == "redemption":
                event.update(unit_price=amount, quantity=1)
                # the contract holds 100 characters of a name with no control characters; the
                # store stops neither, and a name must never block the outbox
                name = _printable(item_name)[:100] if item_name is not None else None
                known = {"item_id": item_id, "item_name": name, "lane": lane}
                event.update((k, v) for k, v in known.items() if v is not None)
            events.append(event)
        return events

    def ack(self, acks: Mapping[str, int]) -> None:
        self.db.executemany(
            "UPDATE outbox SET acked_seq = ? WHERE event_id = ? AND acked_seq IS NULL",
            [(seq, event_id) for event_id, seq in acks.items()],
        )

    def queued(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM outbox WHERE acked_seq IS NULL").fetchone()[0])
