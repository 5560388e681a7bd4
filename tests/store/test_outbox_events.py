"""The outbox as the hub receives it: every queued event is a valid ``protocol.sync`` event."""

from __future__ import annotations

import uuid

from pydantic import TypeAdapter

from kiosk.store.models import LedgerRow, OutboxRow
from protocol.sync import AuditEvent, Event, RedemptionEvent, ReversalEvent
from tests.helpers import KioskWorld

EVENTS: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


def test_a_redemption_carries_the_item_its_price_and_lane(world: KioskWorld) -> None:
    repo, service = world.parts.store, world.parts.service
    tissues = next(i for i in repo.items() if i.name_en == "Tissues")
    lane = next(lane.number for lane in repo.lanes() if lane.item_id == tissues.id)
    service.vend("V0001", tissues, "visit")
    (sold,) = [r for r in repo.recent_redemptions() if r.state == "dispensed"]
    repo.refund("T001", sold.vend_id)
    queued = EVENTS.validate_python(repo.pending_events())  # the kiosk's events pass the contract
    (redemption,) = [e for e in queued if isinstance(e, RedemptionEvent)]
    assert (redemption.volunteer_id, redemption.amount) == ("V0001", tissues.price)
    assert (redemption.item_id, redemption.item_name, redemption.lane) == (tissues.id, "抽纸", lane)
    assert (redemption.unit_price, redemption.quantity) == (tissues.price, 1)
    assert redemption.kiosk_id is None  # the store does not know the kiosk's id at the hub
    (reversal,) = [e for e in queued if isinstance(e, ReversalEvent)]
    assert reversal.amount == tissues.price
    assert reversal.reverses == redemption.id  # the hub gives back only a charge it holds, once
    assert any(isinstance(e, AuditEvent) and e.body.action == "vend_refunded" for e in queued)


def test_a_charge_whose_entry_names_no_item_goes_up_without_one(world: KioskWorld) -> None:
    repo = world.parts.store
    charge = str(uuid.uuid4())
    with repo.units.writing() as uow:  # a charge as an older kiosk wrote it: no item, no lane
        s = uow.session
        s.add(LedgerRow(id=charge, volunteer_id="V0001", kind="charge", amount=5, at=1, day="2026-11-23"))
        s.add(
            OutboxRow(
                event_id=str(uuid.uuid4()),
                entry_id=charge,
                kind="redemption",
                volunteer_id="V0001",
                amount=5,
                at=1,
            )
        )
        uow.commit()
    (event,) = [e for e in repo.pending_events() if e["kind"] == "redemption"]
    assert set(event) == {"id", "kind", "volunteer_id", "amount", "at", "unit_price", "quantity"}
    assert isinstance(EVENTS.validate_python([event])[0], RedemptionEvent)


def test_a_long_item_name_never_blocks_the_outbox(world: KioskWorld) -> None:
    repo, service = world.parts.store, world.parts.service
    tissues = next(i for i in repo.items() if i.name_en == "Tissues")
    repo.update_item("T001", tissues.id, name_zh="抽" * 150)  # the store takes it; the contract would not
    service.vend("V0001", next(i for i in repo.items() if i.id == tissues.id), "visit")
    (event,) = [e for e in EVENTS.validate_python(repo.pending_events()) if isinstance(e, RedemptionEvent)]
    assert event.item_name == "抽" * 100
