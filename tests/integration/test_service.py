"""The kiosk's use cases over a real store and a machine: scan, vend, technicians."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.machine import DispenseResult, Flag, Outcome
from kiosk.core.session import LineStatus
from kiosk.demo import DEMO_CARD_PIN
from tests.helpers import KioskWorld, ScriptedMachine, make_world


def tissues(world: KioskWorld):  # type: ignore[no-untyped-def]
    return next(i for i in world.parts.store.items() if i.name_en == "Tissues")


def test_scan_identifies_with_balance_and_catalog(world: KioskWorld) -> None:
    result = world.parts.service.scan(world.code("app"))
    assert result.volunteer is not None
    assert (result.volunteer.id, result.volunteer.available) == ("V0001", 260)
    assert {o.item.name_en for o in result.offers} >= {"Tissues", "Bottled water"}


@pytest.mark.parametrize(("make", "reason"), [("expired", "expired"), ("forged", "bad_signature")])
def test_bad_codes_are_refused_with_the_spec_reason(world: KioskWorld, make: str, reason: str) -> None:
    result = world.parts.service.scan(world.code(make))
    assert result.volunteer is None and result.notice is not None and result.notice.key == reason


def test_a_technician_code_asks_for_the_pin(world: KioskWorld) -> None:
    assert world.parts.service.scan(world.code("tech", "T001")).tech_id == "T001"
    unknown = world.parts.service.scan(world.code("tech", "T999"))
    assert unknown.notice is not None and unknown.notice.key == "tech_unknown"


def test_a_vend_turns_the_motor_once_and_charges_once(world: KioskWorld) -> None:
    report = world.parts.service.vend("V0001", tissues(world), "visit")
    assert report.status is LineStatus.DISPENSED and report.available == 245
    assert world.sim.motor_turns == 1
    kinds = [e.kind.value for e in world.parts.store.entries("V0001")]
    assert kinds.count("charge") == 1 and kinds.count("hold") == 1


def test_an_empty_lane_releases_and_is_disabled(world: KioskWorld) -> None:
    lane = next(lane for lane in world.parts.store.lanes() if lane.item_id == tissues(world).id)
    world.sim.set_stock(lane.number, 0)  # the store still believes there is stock
    report = world.parts.service.vend("V0001", tissues(world), "visit")
    assert report.status is LineStatus.FAILED and report.available == 260
    assert report.result is not None and Flag.NOTHING_DROPPED in report.result.flags
    assert not next(x for x in world.parts.store.lanes() if x.number == lane.number).enabled


def test_a_dead_machine_holds_nothing(world: KioskWorld) -> None:
    world.sim.silent = True
    report = world.parts.service.vend("V0001", tissues(world), "visit")
    assert report.status is LineStatus.FAILED and report.notice is not None
    assert report.notice.key == "machine_fault"
    assert [e.kind.value for e in world.parts.store.entries("V0001")] == ["credit"]


def test_an_unknown_outcome_is_held_not_charged(tmp_path: Path) -> None:
    machine = ScriptedMachine([DispenseResult(Outcome.UNKNOWN, 0, (Flag.NO_REPLY,))])
    world = make_world(tmp_path, machine)
    try:
        item = tissues(world)
        report = world.parts.service.vend("V0001", item, "visit")
        assert report.status is LineStatus.UNKNOWN
        balance = world.parts.store.balance("V0001")
        assert (balance.settled, balance.held) == (260, 15)
    finally:
        world.parts.close()


def test_a_raising_driver_counts_as_unknown(tmp_path: Path) -> None:
    class Exploding(ScriptedMachine):
        def dispense(self, lane, *, sn=None, on_progress=None):  # type: ignore[no-untyped-def]
            raise OSError("port vanished")

    world = make_world(tmp_path, Exploding())
    try:
        report = world.parts.service.vend("V0001", tissues(world), "visit")
        assert report.status is LineStatus.UNKNOWN
        assert world.parts.store.balance("V0001").held == 15
    finally:
        world.parts.close()


def test_wrong_pins_lock_after_five_tries(world: KioskWorld) -> None:
    service = world.parts.service
    keys = [service.check_pin("T001", "0000").notice for _ in range(5)]
    assert [k.key for k in keys if k] == ["tech_pin_wrong"] * 4 + ["tech_pin_locked"]
    assert service.check_pin("T001", "2468").ok is False  # right PIN, but locked
    world.clock.advance(301)
    assert service.check_pin("T001", "2468").ok


def test_test_vend_is_audited_and_follows_stock(world: KioskWorld) -> None:
    lane = world.parts.store.lanes()[0]
    result = world.parts.service.test_vend("T001", lane.number)
    assert result.outcome is Outcome.DISPENSED
    assert world.parts.store.lanes()[0].stock == lane.stock - 1
    assert world.parts.store.audit_log()[0].action == "test_vend"


@pytest.mark.parametrize("dropped", [True, False])
def test_a_dispense_in_doubt_is_settled_by_a_technician(tmp_path: Path, dropped: bool) -> None:
    machine = ScriptedMachine([DispenseResult(Outcome.UNKNOWN, 0, (Flag.RESTARTED,))])
    world = make_world(tmp_path, machine)
    try:
        item = tissues(world)
        world.parts.service.vend("V0001", item, "visit")
        [doubt] = world.parts.store.in_doubt()
        assert (doubt.volunteer_id, doubt.amount, doubt.board_said) == ("V0001", 15, "board_restarted")
        stock = world.parts.store.lanes()[0].stock
        world.parts.service.settle_in_doubt("T001", doubt.vend_id, dropped)
        balance = world.parts.store.balance("V0001")
        assert (balance.settled, balance.held) == ((245, 0) if dropped else (260, 0))
        assert world.parts.store.lanes()[0].stock == stock - (1 if dropped else 0)
        assert world.parts.store.in_doubt() == []
        assert world.parts.store.audit_log()[0].action == "vend_settled"
        with pytest.raises(LookupError):
            world.parts.service.settle_in_doubt("T001", doubt.vend_id, dropped)
    finally:
        world.parts.close()


def test_each_hold_records_a_fresh_durable_sn(world: KioskWorld) -> None:
    repo = world.parts.store
    from kiosk.core.rules import Limits

    item = tissues(world)
    lane = next(lane.number for lane in repo.lanes() if lane.item_id == item.id)
    first = repo.place_hold("V0001", item.id, lane, "v", Limits())
    second = repo.next_sn()
    third = repo.place_hold("V0001", item.id, lane, "v", Limits(per_item_per_day=5))
    assert first.sn is not None and (second, third.sn) == (first.sn + 1, first.sn + 2)
    assert [h.sn for h in repo.in_flight()] == [first.sn, third.sn]


def test_sn_wraps_past_255_and_skips_zero(world: KioskWorld) -> None:
    seen = [world.parts.store.next_sn() for _ in range(256)]
    assert 0 not in seen and seen[0] == 1 and seen[254] == 255 and seen[255] == 1


def test_a_second_lockout_in_a_row_lasts_fifteen_minutes_and_survives_a_restart(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        service = world.parts.service
        for lockout, minutes in ((1, 5), (2, 15)):
            notices = [service.check_pin("T001", "0000").notice for _ in range(5)]
            assert notices[-1] is not None and notices[-1].params == {"n": minutes}, lockout
            world.clock.advance(minutes * 60 + 1)
        pin = world.parts.store.technician_pin("T001")
        assert pin is not None and pin[1].lockouts == 2  # on disk, not only in memory
        assert service.check_pin("T001", "2468").ok
        pin = world.parts.store.technician_pin("T001")
        assert pin is not None and pin[1].lockouts == 0
    finally:
        world.parts.close()


def test_a_card_with_a_pin_names_its_holder_and_the_pin_gives_the_volunteer(world: KioskWorld) -> None:
    service = world.parts.service
    asked = service.scan(world.code("card", "V0003"))  # the demo's card, with a PIN
    assert asked.volunteer is None and asked.card_holder is not None
    assert (asked.card_holder.volunteer_id, asked.card_holder.masked_name) == ("V0003", "孙**")
    wrong = service.check_card_pin("V0003", "000000")
    assert wrong.volunteer is None and wrong.notice is not None and not wrong.ends_visit
    right = service.check_card_pin("V0003", DEMO_CARD_PIN)
    assert right.volunteer is not None and right.volunteer.available == 150 and right.offers
    assert service.scan(world.code("app", "V0003")).volunteer is not None  # the phone asks none
    assert service.scan(world.code("card", "V0001")).volunteer is not None  # a card with none


def test_a_pin_the_hub_cleared_meanwhile_is_asked_no_more(world: KioskWorld) -> None:
    service = world.parts.service
    assert service.scan(world.code("card", "V0003")).card_holder is not None
    world.parts.store.apply_pull({"cursor": 0, "card_pins": [["V0003", None]]})
    assert service.check_card_pin("V0003", "").volunteer is not None  # the pad was up: let them in
    assert service.scan(world.code("card", "V0003")).volunteer is not None
