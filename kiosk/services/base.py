"""What every use case over the store shares: units of work, the clock, appending entries."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ..core.ledger import Entry
from ..core.redemption import hub_event
from .ports import UnitOfWork, UnitsOfWork


class UseCases:
    def __init__(self, units: UnitsOfWork, clock: Callable[[], float] = time.time) -> None:
        self.units = units
        self.clock = clock

    def _now(self) -> tuple[int, str]:
        """Now in Unix seconds, and the kiosk's local date (the daily caps count by it)."""
        t = self.clock()
        return int(t), time.strftime("%Y-%m-%d", time.localtime(t))

    @staticmethod
    def _append(
        uow: UnitOfWork, entry: Entry, at: int, *, visit_id: str | None = None, note: str | None = None
    ) -> None:
        """Append one ledger entry; one that goes up to the hub queues its event with it."""
        uow.ledger.add(entry, at, visit_id=visit_id, note=note)
        kind = hub_event(entry.kind)
        if kind is not None:
            uow.outbox.add(kind, at, entry_id=entry.id, volunteer_id=entry.volunteer_id, amount=entry.amount)

    def _audit(
        self,
        uow: UnitOfWork,
        actor: str,
        action: str,
        target: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        """An audit row, and its event for the hub, in the caller's unit of work."""
        at, _ = self._now()
        uow.audit.add(at, actor, action, target, before, after)
        record = {"actor": actor, "action": action, "target": target, "before": before, "after": after}
        uow.outbox.add("audit", at, body=record)
