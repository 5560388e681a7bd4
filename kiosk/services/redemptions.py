"""Redemption use cases: look a volunteer up, hold a price, settle a vend, refund.

Each is one unit of work: the store loads the facts (lane, item, the volunteer's bounded
facts, the kiosk's unseen spending), a function of ``kiosk.core`` decides, and the
outcome is saved before the unit commits. Nothing here re-implements a rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from drivers.lane_board import codec
from drivers.machine import DispenseResult

from ..core.ledger import Balance, Entry, EntryKind
from ..core.offline import OfflinePolicy
from ..core.people import Volunteer
from ..core.records import HoldPlaced
from ..core.redemption import HoldFacts, account, hold_refusal, volunteer_view
from ..core.rules import Limits, Refusal
from ..core.vend import Settlement, Vend, VendState, refund, settle_by_hand, settle_vend
from ..store.settings import LANE_BOARD_SN
from .base import UseCases
from .ports import UnitOfWork


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def next_sn(previous: str | None) -> int:
    """The lane board's next sequence number after the stored one: 1..255, never 0."""
    return codec.next_sn(None if previous is None else int(previous))


def _hold_entry(hold: HoldPlaced, day: str) -> Entry:
    return Entry(
        hold.hold_id, hold.volunteer_id, EntryKind.HOLD, hold.price, None, hold.item_id, hold.lane, day
    )


class Redemptions(UseCases):
    def _view(self, uow: UnitOfWork, volunteer_id: str, offline: OfflinePolicy | None) -> Volunteer:
        _, day = self._now()
        facts = uow.ledger.facts(volunteer_id, day, uow.settings.cursor())
        kiosk = uow.ledger.kiosk_spending() if offline is not None else None
        return volunteer_view(facts, day, offline, kiosk)

    def _balance(self, uow: UnitOfWork, volunteer_id: str) -> Balance:
        _, day = self._now()
        return account(uow.ledger.facts(volunteer_id, day, uow.settings.cursor()))

    def balance(self, volunteer_id: str) -> Balance:
        with self.units.reading() as uow:
            return self._balance(uow, volunteer_id)

    def volunteer(self, volunteer_id: str, offline: OfflinePolicy | None = None) -> Volunteer | None:
        """A volunteer as the screens show them; with ``offline``, their offline room too."""
        _, day = self._now()
        with self.units.reading() as uow:
            facts = uow.ledger.facts(volunteer_id, day, uow.settings.cursor())
            if facts.name is None:
                return None
            kiosk = uow.ledger.kiosk_spending() if offline is not None else None
            return volunteer_view(facts, day, offline, kiosk)

    def entries(self, volunteer_id: str) -> list[Entry]:
        with self.units.reading() as uow:
            return uow.ledger.history(volunteer_id)

    def credit(self, volunteer_id: str, amount: int, note: str = "") -> str:
        at, day = self._now()
        entry = Entry(str(uuid.uuid4()), volunteer_id, EntryKind.CREDIT, amount, day=day)
        with self.units.writing() as uow:
            self._append(uow, entry, at, note=note or None)
            uow.commit()
        return entry.id

    def upsert_volunteers(self, people: Iterable[tuple[str, str]]) -> None:
        rows = [(vid, name, 0) for vid, name in people]
        with self.units.writing() as uow:
            uow.ledger.upsert_volunteers(rows, False)
            uow.commit()

    def place_hold(
        self,
        volunteer_id: str,
        item_id: int,
        lane: int,
        visit_id: str,
        limits: Limits,
        offline: OfflinePolicy | None = None,
    ) -> HoldPlaced:
        """Set the item's price aside and record the vend, or raise :class:`Refused`."""
        at, day = self._now()
        with self.units.writing() as uow:
            facts = HoldFacts(
                lane=uow.catalogue.lane(lane),
                item=uow.catalogue.item(item_id),
                item_id=item_id,
                volunteer=self._view(uow, volunteer_id, offline),
                limits=limits,
            )
            refusal = hold_refusal(facts)
            if refusal is not None:
                raise Refused(refusal)
            assert facts.item is not None
            sn = next_sn(uow.settings.get(LANE_BOARD_SN))  # with the hold, before the frame is sent
            uow.settings.set(LANE_BOARD_SN, str(sn))
            hold = HoldPlaced(
                str(uuid.uuid4()), str(uuid.uuid4()), volunteer_id, item_id, lane, facts.item.price, sn
            )
            self._append(uow, _hold_entry(hold, day), at, visit_id=visit_id)
            uow.vends.add(Vend(hold.vend_id, hold.hold_id, lane, VendState.IN_FLIGHT, "", sn, at))
            uow.commit()
            return hold

    def next_sn(self) -> int:
        """The next lane-board SN (1..255, never 0), on disk before it is used."""
        with self.units.writing() as uow:
            sn = next_sn(uow.settings.get(LANE_BOARD_SN))
            uow.settings.set(LANE_BOARD_SN, str(sn))
            uow.commit()
            return sn

    def _save(self, uow: UnitOfWork, settled: Settlement, hold: Entry, at: int, note: str | None) -> None:
        """Save a settlement: the vend's state, the entry closing the hold, the lane."""
        uow.vends.save(settled.vend)
        if settled.entry is not None:
            _, day = self._now()
            closing = Entry(
                str(uuid.uuid4()), hold.volunteer_id, settled.entry, hold.amount, hold.id,
                hold.item_id, hold.lane, day,
            )  # fmt: skip
            self._append(uow, closing, at, note=note)
        if settled.lane is not None:
            uow.catalogue.save_lane(settled.lane)
        if settled.disabled and settled.lane is not None:
            self._audit(
                uow, "machine", "lane_disabled", f"lane:{settled.lane.number}",
                {"enabled": True}, {"enabled": False, "fault": settled.lane.fault},
            )  # fmt: skip

    def settle(self, hold: HoldPlaced, result: DispenseResult) -> Balance:
        """Charge on a confirmed drop, release on a failure, keep the hold when unknown."""
        at, day = self._now()
        with self.units.writing() as uow:
            vend = uow.vends.get(hold.vend_id)
            if vend is None:
                raise LookupError(f"no vend {hold.vend_id}")
            settled = settle_vend(vend, result, uow.catalogue.lane(hold.lane), at)
            self._save(uow, settled, _hold_entry(hold, day), at, None)
            uow.flush()
            balance = self._balance(uow, hold.volunteer_id)
            uow.commit()
            return balance

    def in_flight(self) -> list[HoldPlaced]:
        """Dispenses a previous run started and never settled (it stopped mid-vend)."""
        with self.units.reading() as uow:
            return uow.vends.in_flight()

    def settle_in_doubt(self, actor: str, vend_id: str, dispensed: bool) -> Balance:
        """A technician's word on a dispense in doubt: charge it, or release the hold."""
        at, _ = self._now()
        with self.units.writing() as uow:
            vend = uow.vends.get(vend_id)
            hold = None if vend is None else uow.ledger.get(vend.hold_id)
            if vend is None or hold is None:
                raise LookupError(f"no dispense in doubt with id {vend_id}")
            settled = settle_by_hand(vend, dispensed, uow.catalogue.lane(vend.lane), at)
            self._save(uow, settled, hold, at, f"settled by {actor}")
            self._audit(
                uow, actor, "vend_settled", f"vend:{vend_id}",
                {"state": vend.state.value}, {"state": settled.vend.state.value},
            )  # fmt: skip
            uow.flush()
            balance = self._balance(uow, hold.volunteer_id)
            uow.commit()
            return balance

    def refund(self, actor: str, vend_id: str) -> Balance:
        """A technician gives back a dispensed item's 益币 (a reversal of its charge, once).

        The item stays gone (stock is not restored); the reversal goes up to the hub like
        a redemption does, and the audit log names who gave it back.
        """
        at, day = self._now()
        with self.units.writing() as uow:
            vend = uow.vends.get(vend_id)
            charge = None if vend is None else uow.ledger.charge_of(vend.hold_id)
            if vend is None or charge is None:
                raise LookupError(f"no dispensed item with vend id {vend_id}")
            refunded = refund(vend)
            reversal = Entry(
                str(uuid.uuid4()), charge.volunteer_id, EntryKind.REVERSAL, charge.amount, charge.id,
                charge.item_id, charge.lane, day,
            )  # fmt: skip
            self._append(uow, reversal, at, note=f"refunded by {actor}")
            uow.vends.save(refunded)
            self._audit(
                uow, actor, "vend_refunded", f"vend:{vend_id}", {"state": "dispensed"}, {"state": "refunded"}
            )
            uow.flush()
            balance = self._balance(uow, charge.volunteer_id)
            uow.commit()
            return balance
