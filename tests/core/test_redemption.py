"""The core's redemption decisions over plain facts (no database, no Qt)."""

from __future__ import annotations

import pytest

from drivers.machine import DispenseResult, Flag, Outcome
from kiosk.core.catalog import Item, Lane
from kiosk.core.ledger import Entry, EntryKind
from kiosk.core.offline import OfflinePolicy
from kiosk.core.people import Volunteer
from kiosk.core.redemption import (
    HoldFacts,
    KioskSpending,
    VolunteerFacts,
    account,
    hold_refusal,
    offline_room,
    volunteer_view,
)
from kiosk.core.rules import Limits, Refusal
from kiosk.core.vend import (
    AlreadySettled,
    Vend,
    VendError,
    VendState,
    after_test_vend,
    change_lane,
    refund,
    settle_by_hand,
    settle_vend,
)

TODAY = "2026-11-23"
TISSUES = Item(1, "抽纸", "Tissues", 15)


def entry(kind: EntryKind, amount: int, day: str = TODAY, ref: str | None = "h") -> Entry:
    ref = None if kind is EntryKind.HOLD else ref
    return Entry(f"{kind}-{amount}-{day}", "V1", kind, amount, ref, 1, 1, day)


def test_the_account_is_the_hub_balance_plus_what_it_has_not_reflected_less_holds() -> None:
    facts = VolunteerFacts(
        "V1",
        "赵小明",
        hub_balance=100,
        unseen=(entry(EntryKind.CHARGE, 20), entry(EntryKind.CREDIT, 5, ref=None)),
        unreflected=(entry(EntryKind.REVERSAL, 15),),
        open_holds=(entry(EntryKind.HOLD, 15),),
    )
    balance = account(facts)
    assert (balance.settled, balance.held, balance.available) == (100, 15, 85)


def test_the_offline_room_counts_todays_unseen_charges_and_holds_and_the_kiosk() -> None:
    facts = VolunteerFacts(
        "V1",
        "赵小明",
        unseen=(entry(EntryKind.CHARGE, 20), entry(EntryKind.CHARGE, 30, day="2026-11-22")),
        unreflected=(entry(EntryKind.CHARGE, 40),),  # the hub saw it: no longer offline spending
        open_holds=(entry(EntryKind.HOLD, 15),),
    )
    policy = OfflinePolicy(daily_cap=100, total_cap=1000)
    assert offline_room(policy, facts, KioskSpending(0, 0), TODAY) == 65
    assert offline_room(policy, facts, KioskSpending(980, 15), TODAY) == 5


def test_the_view_counts_todays_items_and_leaves_the_room_off_online() -> None:
    facts = VolunteerFacts("V1", None, held_today=(entry(EntryKind.HOLD, 15), entry(EntryKind.HOLD, 15)))
    view = volunteer_view(facts, TODAY)
    assert view.taken_today == {1: 2} and view.spend_limit is None and view.name == ""


@pytest.mark.parametrize(
    ("lane", "available", "taken", "room", "expected"),
    [
        (None, 100, 0, None, Refusal.SOLD_OUT),
        (Lane(1, 2, 10, 5), 100, 0, None, Refusal.SOLD_OUT),  # the lane holds another item
        (Lane(1, 1, 10, 0, enabled=False), 100, 0, None, Refusal.MACHINE_FAULT),  # disabled before empty
        (Lane(1, 1, 10, 0), 100, 0, None, Refusal.SOLD_OUT),
        (Lane(1, 1, 10, 5), 0, 2, None, Refusal.DAILY_ITEM_CAP),  # the cap before the balance
        (Lane(1, 1, 10, 5), 10, 0, 0, Refusal.INSUFFICIENT_BALANCE),  # the balance before the room
        (Lane(1, 1, 10, 5), 100, 0, 10, Refusal.OFFLINE_CAP),
        (Lane(1, 1, 10, 5), 15, 1, 15, None),
    ],
)
def test_a_hold_is_refused_in_one_order(
    lane: Lane | None, available: int, taken: int, room: int | None, expected: Refusal | None
) -> None:
    volunteer = Volunteer("V1", "赵小明", available, {1: taken}, room)
    assert hold_refusal(HoldFacts(lane, TISSUES, 1, volunteer, Limits(per_item_per_day=2))) is expected


VEND = Vend("v1", "h1", 1, VendState.IN_FLIGHT)
LANE = Lane(1, 1, 10, 5)


def test_a_drop_charges_and_takes_one_from_the_lane() -> None:
    settled = settle_vend(VEND, DispenseResult(Outcome.DISPENSED, 1), LANE, at=7)
    assert settled.entry is EntryKind.CHARGE and settled.lane == Lane(1, 1, 10, 4)
    assert settled.vend.state is VendState.DISPENSED and settled.vend.finished_at == 7
    with pytest.raises(AlreadySettled):
        settle_vend(settled.vend, DispenseResult(Outcome.DISPENSED, 1), LANE, at=8)


@pytest.mark.parametrize(
    ("flags", "disabled"),
    [((Flag.MOTOR_DID_NOT_TURN,), True), ((Flag.NOTHING_DROPPED,), True), ((Flag.DOOR_OPEN,), False)],
)
def test_a_failure_releases_and_a_jam_or_an_empty_drop_disables_the_lane(
    flags: tuple[Flag, ...], disabled: bool
) -> None:
    settled = settle_vend(VEND, DispenseResult(Outcome.NOT_DISPENSED, 1, flags), LANE, at=7)
    assert settled.entry is EntryKind.RELEASE and settled.disabled is disabled
    assert settled.lane is not None and settled.lane.enabled is not disabled and settled.lane.stock == 5
    assert (settled.lane.fault == flags[0].value) is disabled


def test_an_unknown_outcome_keeps_the_hold_and_waits_for_a_technician() -> None:
    settled = settle_vend(VEND, DispenseResult(Outcome.UNKNOWN, 1, (Flag.NO_REPLY,)), LANE, at=7)
    assert settled.entry is None and settled.lane == LANE and settled.vend.state is VendState.UNKNOWN
    by_hand = settle_by_hand(settled.vend, True, LANE, at=9)
    assert by_hand.entry is EntryKind.CHARGE and by_hand.lane is not None and by_hand.lane.stock == 4
    assert settle_by_hand(settled.vend, False, LANE, at=9).entry is EntryKind.RELEASE
    with pytest.raises(VendError):
        settle_by_hand(VEND, True, LANE, at=9)


def test_only_a_dispensed_item_is_refunded_and_only_once() -> None:
    refunded = refund(Vend("v1", "h1", 1, VendState.DISPENSED))
    assert refunded.state is VendState.REFUNDED
    with pytest.raises(VendError):
        refund(refunded)


def test_lane_edits_are_checked_and_enabling_clears_the_fault() -> None:
    faulty = Lane(1, 1, 10, 5, enabled=False, fault="jam")
    assert change_lane(faulty, {"enabled": True}) == Lane(1, 1, 10, 5)
    with pytest.raises(ValueError, match="capacity"):
        change_lane(faulty, {"stock": 11})
    with pytest.raises(ValueError, match="unknown"):
        change_lane(faulty, {"price": 1})
    assert after_test_vend(LANE, DispenseResult(Outcome.DISPENSED, 1)).stock == 4
    assert after_test_vend(LANE, DispenseResult(Outcome.NOT_DISPENSED, 1)) == LANE
