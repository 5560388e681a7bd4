"""The read side: the lists the technician screens and the status report show.

Each query returns frozen records with names joined in; none of them decides anything
or writes anything.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.records import AuditEntry, InDoubt, Redemption
from ..core.vend import VendState
from .models import AuditRow, ItemRow, LedgerRow, VendRow, VolunteerRow

# each vend with its hold, the volunteer's name and the item's name
_VENDS_WITH_NAMES = (
    select(VendRow, LedgerRow, VolunteerRow.name, ItemRow.name_zh, ItemRow.name_en)
    .join(LedgerRow, LedgerRow.id == VendRow.hold_id)
    .outerjoin(VolunteerRow, VolunteerRow.id == LedgerRow.volunteer_id)
    .outerjoin(ItemRow, ItemRow.id == LedgerRow.item_id)
)


class Views:
    def __init__(self, session: Session) -> None:
        self.s = session

    def recent_redemptions(self, limit: int = 50) -> list[Redemption]:
        rows = self.s.execute(
            _VENDS_WITH_NAMES.order_by(VendRow.started_at.desc(), VendRow.id).limit(limit)
        ).all()
        return [
            Redemption(
                at=v.started_at,
                volunteer_id=h.volunteer_id,
                volunteer_name=name or "",
                item_name=item_name or "",
                lane=v.lane,
                amount=h.amount,
                state=v.state,
                vend_id=v.id,
                item_name_en=item_en or "",
            )
            for v, h, name, item_name, item_en in rows
        ]

    def in_doubt(self) -> list[InDoubt]:
        rows = self.s.execute(
            _VENDS_WITH_NAMES.where(VendRow.state == VendState.UNKNOWN).order_by(VendRow.started_at)
        ).all()
        return [
            InDoubt(
                v.id,
                v.started_at,
                v.lane,
                h.volunteer_id,
                name or "",
                item or "",
                h.amount,
                v.flags,
                item_en or "",
            )
            for v, h, name, item, item_en in rows
        ]

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        rows = self.s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
        return [AuditEntry(r.at, r.actor, r.action, r.target, r.before, r.after) for r in rows]
