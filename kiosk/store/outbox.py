"""The outbox: events for the hub, written in the transaction of what they report.

A ledger event (``redemption``, ``reversal``) names its entry; a record (``audit``)
carries its body. Events are read back in the order they were written and marked with
the hub sequence they were applied at. Plain SQL, as the ledger (a redemption writes one).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from .models import OutboxRow

_INSERT = (
    "INSERT INTO outbox (event_id, entry_id, kind, volunteer_id, amount, at, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class OutboxRepository:
    def __init__(self, db: sqlite3.Connection, session: Session) -> None:
        self.db = db
        self.s = session

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
        rows = self.s.scalars(
            select(OutboxRow)
            .where(OutboxRow.acked_seq.is_(None))
            .order_by(OutboxRow.at, literal_column("outbox.rowid"))  # the order they were written in
            .limit(limit)
        )
        return [
            {"id": r.event_id, "kind": r.kind, "at": r.at, "body": json.loads(r.body)}
            if r.body is not None
            else {
                "id": r.event_id,
                "kind": r.kind,
                "volunteer_id": r.volunteer_id,
                "amount": r.amount,
                "at": r.at,
            }
            for r in rows
        ]

    def ack(self, acks: Mapping[str, int]) -> None:
        for event_id, seq in acks.items():
            row = self.s.get(OutboxRow, event_id)
            if row is not None and row.acked_seq is None:
                row.acked_seq = seq

    def queued(self) -> int:
        return int(
            self.s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.acked_seq.is_(None)))
            or 0
        )
