"""What every use case over the store shares: units of work, the clock, appending entries."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..core.ledger import Entry
from ..core.redemption import hub_event
from .ports import UnitOfWork, UnitsOfWork

log = logging.getLogger("kiosk.services")

MACHINE = "machine"
"""The audit log's actor for what the kiosk did by itself (a lane disabled after a jam)."""


HUB = "hub"
"""The audit log's actor for what the hub's pull pages changed (a price from the fleet's catalogue)."""


def _diff(old: object, new: object, fields: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ: their values before and after."""
    before = {k: getattr(old, k) for k in fields if getattr(old, k) != getattr(new, k)}
    return before, {k: getattr(new, k) for k in before}


def _json(fields: Mapping[str, Any] | None) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str) if fields else "-"


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
        """An audit row, and its event for the hub, in the caller's unit of work; and its log
        line (every technician's action, and the machine's own: a lane it disabled is a fault)."""
        at, _ = self._now()
        uow.audit.add(at, actor, action, target, before, after)
        change = f": {_json(before)} → {_json(after)}" if before or after else ""
        level = logging.WARNING if actor == MACHINE else logging.INFO
        log.log(level, "%s by %s on %s%s", action, actor, target, change)
        record = {"actor": actor, "action": action, "target": target, "before": before, "after": after}
        uow.outbox.add("audit", at, body=record)
