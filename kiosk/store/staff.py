"""Technicians (their PIN hashes and lockout state) and the audit log of their changes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.people import PinState
from .models import AuditRow, TechnicianRow


class TechnicianRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def pin(self, tech_id: str) -> tuple[str, PinState] | None:
        row = self.s.get(TechnicianRow, tech_id)
        if row is None:
            return None
        return row.pin_hash, PinState(row.failures, float(row.locked_until), row.lockouts)

    def save_pin_state(self, tech_id: str, state: PinState) -> None:
        row = self.s.get(TechnicianRow, tech_id)
        if row is None:
            raise LookupError(tech_id)
        row.failures = state.failures
        row.locked_until = int(state.locked_until)
        row.lockouts = state.lockouts

    def add(self, tech_id: str, name: str, pin_hash: str) -> None:
        self.s.merge(
            TechnicianRow(id=tech_id, name=name, pin_hash=pin_hash, failures=0, locked_until=0, lockouts=0)
        )

    def replace_all(self, people: Mapping[str, tuple[str, str]]) -> None:
        """``people`` (id → name, PIN hash) in place of ours; a lockout in progress is kept."""
        ours = {t.id: t for t in self.s.scalars(select(TechnicianRow))}
        for tech_id, row in ours.items():
            if tech_id not in people:
                self.s.delete(row)
        for tech_id, (name, pin_hash) in people.items():
            known = ours.get(tech_id)
            if known is None:
                self.add(tech_id, name, pin_hash)
            else:
                known.name, known.pin_hash = name, pin_hash


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(
        self,
        at: int,
        actor: str,
        action: str,
        target: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        self.s.add(
            AuditRow(
                at=at,
                actor=actor,
                action=action,
                target=target,
                before=None if before is None else json.dumps(before, ensure_ascii=False),
                after=None if after is None else json.dumps(after, ensure_ascii=False),
            )
        )
