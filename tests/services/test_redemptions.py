"""Redemption use cases over a unit of work: facts loaded, the core decides, outcome saved."""

from __future__ import annotations

import json

import pytest

from drivers.machine import DispenseResult, Flag, Outcome
from kiosk.core.catalog import Item
from kiosk.core.offline import OfflinePolicy
from kiosk.core.records import RefusedEvent
from kiosk.core.rules import Limits, Refusal
from kiosk.core.vend import AlreadySettled
from kiosk.services.kiosk import KioskService
from kiosk.services.store import Refused, Store
from kiosk.store.settings import LANE_BOARD_SN
from tests.helpers import ScriptedMachine
from tests.services.fakes import FakeUnitsOfWork

DROPPED = DispenseResult(Outcome.DISPENSED, 1)


def refusal(store: Store, volunteer: str, item: int, lane: int, **kw: object) -> Refusal | None:
    try:
        store.place_hold(volunteer, item, lane, "visit", kw.pop("limits", Limits()), **kw)  # type: ignore[arg-type]
    except Refused as refused:
        return refused.reason
    return None


def test_a_hold_then_a_charge_moves_the_balance_the_stock_and_the_outbox(store: Store) -> None:
    hold = store.place_hold("V1", 1, 1, "visit", Limits())
    assert store.balance("V1").available == 85 and store.balance("V1").held == 15
    assert store.balance("V1").settled == 100
    after = store.settle(hold, DROPPED)
    assert (after.settled, after.held) == (85, 0)
    assert next(lane for lane in store.lanes() if lane.number == 1).stock == 4
    [event] = [e for e in store.pending_events() if e["kind"] == "redemption"]
    assert [event[k] for k in ("volunteer_id", "amount", "unit_price", "quantity")] == ["V1", 15, 15, 1]
    assert (event["item_id"], event["item_name"], event["lane"]) == (1, "抽纸", 1)
    assert hold.sn == 1 and store.place_hold("V1", 1, 1, "visit", Limits()).sn == 2


def test_refusals_come_in_one_order(store: Store) -> None:
    assert refusal(store, "V1", 2, 3) is Refusal.SOLD_OUT  # lane 3 is empty
    assert refusal(store, "V1", 1, 2) is Refusal.SOLD_OUT  # lane 2 holds water, not tissues
    assert refusal(store, "V2", 1, 1) is Refusal.INSUFFICIENT_BALANCE
    store.update_lane("T", 1, enabled=False)
    assert refusal(store, "V1", 1, 1) is Refusal.MACHINE_FAULT
    store.update_lane("T", 1, enabled=True)
    for _ in range(2):
        store.settle(store.place_hold("V1", 1, 1, "visit", Limits()), DROPPED)
    assert refusal(store, "V1", 1, 1) is Refusal.DAILY_ITEM_CAP
    assert refusal(store, "V1", 2, 2, offline=OfflinePolicy(daily_cap=40)) is Refusal.OFFLINE_CAP


def test_a_refused_hold_writes_nothing(store: Store) -> None:
    assert refusal(store, "V2", 1, 1) is Refusal.INSUFFICIENT_BALANCE
    assert store.setting(LANE_BOARD_SN) is None
    assert [e.kind.value for e in store.entries("V2")] == ["credit"]
    assert store.in_flight() == []


def test_a_jam_releases_the_hold_and_disables_the_lane_with_an_audit_row(store: Store) -> None:
    hold = store.place_hold("V1", 1, 1, "visit", Limits())
    after = store.settle(hold, DispenseResult(Outcome.NOT_DISPENSED, 1, (Flag.JAM_DURING_TURN,)))
    assert (after.settled, after.held) == (100, 0)
    lane = next(lane for lane in store.lanes() if lane.number == 1)
    assert not lane.enabled and lane.stock == 5 and lane.fault == Flag.JAM_DURING_TURN.value
    assert store.audit_log(1)[0].action == "lane_disabled"
    with pytest.raises(AlreadySettled):
        store.settle(hold, DROPPED)


def test_an_unknown_outcome_keeps_the_hold_until_a_technician_settles_it(store: Store) -> None:
    hold = store.place_hold("V1", 1, 1, "visit", Limits())
    store.settle(hold, DispenseResult(Outcome.UNKNOWN, 1, (Flag.NO_REPLY,)))
    assert store.balance("V1").held == 15
    [doubt] = store.in_doubt()
    assert (doubt.vend_id, doubt.volunteer_name, doubt.item_name) == (hold.vend_id, "赵小明", "抽纸")
    after = store.settle_in_doubt("T01", hold.vend_id, dispensed=True)
    assert (after.settled, after.held) == (85, 0)
    assert store.in_doubt() == [] and store.audit_log(1)[0].action == "vend_settled"
    with pytest.raises(LookupError):
        store.settle_in_doubt("T01", hold.vend_id, dispensed=False)


def test_a_refund_gives_the_charge_back_once(store: Store) -> None:
    hold = store.place_hold("V1", 1, 1, "visit", Limits())
    store.settle(hold, DROPPED)
    assert store.refund("T01", hold.vend_id).settled == 100
    with pytest.raises(LookupError):
        store.refund("T01", hold.vend_id)
    charge, reversal = [e for e in store.pending_events() if e["kind"] != "audit"]
    assert (charge["kind"], reversal["kind"]) == ("redemption", "reversal")
    assert reversal["reverses"] == charge["id"]  # protocol 3: a reversal names its charge


def test_an_event_the_hub_refused_is_not_sent_again_and_the_audit_log_says_why(store: Store) -> None:
    store.apply_pull({"cursor": 10, "columns": ["id", "name", "balance"], "volunteers": [["V9", "孙", 50]]})
    store.settle(store.place_hold("V9", 1, 1, "visit", Limits()), DROPPED)
    [event] = [e for e in store.pending_events() if e["kind"] == "redemption"]
    refusal = RefusedEvent(event["id"], "amount_over_limit", "redemption", "V9", 15)
    store.ack_events({event["id"]: 0}, [refusal])
    assert [e for e in store.pending_events() if e["kind"] == "redemption"] == []  # never sent again
    assert store.balance("V9").available == 50  # the hub never held the charge: its balance is the truth
    (entry,) = [a for a in store.audit_log() if a.action == "event_refused"]
    assert (entry.actor, entry.target) == ("hub", f"event:{event['id']}")
    assert json.loads(entry.after or "") == {
        "refused": "amount_over_limit",
        "kind": "redemption",
        "volunteer_id": "V9",
        "amount": 15,
    }


def test_the_hub_balance_and_what_it_has_not_reflected_count_once(store: Store) -> None:
    store.apply_pull({"cursor": 10, "columns": ["id", "name", "balance"], "volunteers": [["V9", "孙", 50]]})
    store.settle(store.place_hold("V9", 1, 1, "visit", Limits()), DROPPED)
    assert store.balance("V9").available == 35  # not seen by the hub: counted here
    [event] = [e for e in store.pending_events() if e["kind"] == "redemption"]
    store.ack_events({event["id"]: 11})
    assert store.balance("V9").available == 35  # seen, not reflected yet: still counted here
    store.apply_pull({"cursor": 11, "volunteers": [["V9", "孙", 35]]})
    assert store.balance("V9").available == 35  # reflected: counted once, in the hub's balance
    assert store.volunteer("V9") is not None and store.volunteer("nobody") is None


def test_the_offline_room_counts_today_and_the_whole_kiosk(store: Store) -> None:
    policy = OfflinePolicy(daily_cap=30, total_cap=40)
    store.settle(store.place_hold("V1", 1, 1, "visit", Limits(), policy), DROPPED)
    v1 = store.volunteer("V1", policy)
    assert v1 is not None and v1.spend_limit == 15
    v2 = store.volunteer("V2", policy)
    assert v2 is not None and v2.spend_limit == 25  # the kiosk's total cap, less V1's 15


def fake_kiosk() -> tuple[FakeUnitsOfWork, Store, KioskService, Item]:
    """The kiosk's service over the in-memory unit of work: one item, one volunteer with 40 益币."""
    units = FakeUnitsOfWork()
    store = Store(units)
    item = store.add_item("seed", "抽纸", "Tissues", 15)
    store.add_lane("seed", 1, item.id, 10, 3)
    store.upsert_volunteers([("V1", "赵小明")])
    store.credit("V1", 40)
    return units, store, KioskService(store, ScriptedMachine(), [], Limits()), item


def test_the_kiosk_service_vends_on_the_fake_unit_of_work() -> None:
    units, store, service, item = fake_kiosk()
    report = service.vend("V1", item, "visit")
    assert report.available == 25 and report.notice is None
    assert units.data.lanes[1].stock == 2
    assert [e.kind.value for e in store.entries("V1")] == ["credit", "hold", "charge"]


def test_the_store_is_tidied_after_a_scan_not_inside_a_vend() -> None:
    units, _, service, item = fake_kiosk()
    service.vend("V1", item, "visit")
    assert units.checkpoints == 0
    service.after_scan()
    assert units.checkpoints == 1
