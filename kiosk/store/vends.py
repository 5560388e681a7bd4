"""Vends: one row per dispense, in the state the core's ``vend`` module gave it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.records import HoldPlaced
from ..core.vend import Vend, VendState
from .models import LedgerRow, VendRow


def _vend(row: VendRow) -> Vend:
    return Vend(row.id, row.hold_id, row.lane, row.state, row.flags, row.sn, row.started_at, row.finished_at)


class VendRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, vend: Vend) -> None:
        self.s.add(
            VendRow(
                id=vend.id,
                hold_id=vend.hold_id,
                lane=vend.lane,
                state=vend.state,
                flags=vend.flags,
                sn=vend.sn,
                started_at=vend.started_at,
                finished_at=vend.finished_at,
            )
        )

    def get(self, vend_id: str) -> Vend | None:
        row = self.s.get(VendRow, vend_id)
        return None if row is None else _vend(row)

    def save(self, vend: Vend) -> None:
        row = self.s.get(VendRow, vend.id)
        if row is None:
            raise LookupError(f"no vend {vend.id}")
        row.state, row.flags, row.finished_at = vend.state, vend.flags, vend.finished_at

    def in_flight(self) -> list[HoldPlaced]:
        """Dispenses a previous run started and never settled (it stopped mid-vend)."""
        rows = self.s.execute(
            select(VendRow, LedgerRow)
            .join(LedgerRow, LedgerRow.id == VendRow.hold_id)
            .where(VendRow.state == VendState.IN_FLIGHT)
            .order_by(VendRow.started_at)
        ).all()
        return [
            HoldPlaced(h.id, v.id, h.volunteer_id, h.item_id or 0, v.lane, h.amount, v.sn) for v, h in rows
        ]
