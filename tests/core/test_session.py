"""The visit state machine, with no Qt: steps, caps, cancel and timeouts."""

from __future__ import annotations

import pytest

from kiosk.core.catalog import Item, Lane, Offer, build_offers, pick_lane
from kiosk.core.people import CardHolder, Volunteer
from kiosk.core.rules import Limits, Refusal
from kiosk.core.session import LineStatus, Notice, Session, Step, StepError, Timeouts
from tests.helpers import FakeClock

TISSUES = Item(1, "抽纸", "Tissues", 15)
WATER = Item(2, "矿泉水", "Water", 20)
NOODLES = Item(3, "方便面", "Noodles", 35)
OFFERS = (Offer(TISSUES, 5, (1,)), Offer(WATER, 1, (2,)), Offer(NOODLES, 0, (3,)))


def visitor(available: int = 100, taken: dict[int, int] | None = None) -> Volunteer:
    return Volunteer("V1", "赵小明", available, taken or {})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(0)


@pytest.fixture
def session(clock: FakeClock) -> Session:
    return Session(Limits(per_visit_items=3, per_item_per_day=2), Timeouts(), clock)


def test_a_whole_visit_walks_every_step(session: Session) -> None:
    seen: list[Step] = []
    session.subscribe(lambda s: seen.append(s.step))
    session.identify(visitor(), OFFERS)
    assert session.pick(TISSUES.id) is None
    assert session.pick(WATER.id) is None
    session.review()
    items = session.confirm()
    assert items == (TISSUES, WATER)
    assert session.next_line() == 0
    session.line_changed(0, LineStatus.DISPENSING)
    session.line_changed(0, LineStatus.DISPENSED, available=85)
    assert session.next_line() == 1
    session.line_changed(1, LineStatus.FAILED, available=85)
    assert session.next_line() is None
    session.finish_dispensing()
    assert session.step is Step.RESULT
    assert session.dispensed == [TISSUES]
    assert session.balance_after == 85
    session.cancel()
    order = list(dict.fromkeys(seen))
    assert order == [Step.IDENTIFIED, Step.CHOOSING, Step.CONFIRMING, Step.DISPENSING, Step.RESULT, Step.IDLE]


def test_refusals_keep_the_cart_and_name_the_reason(session: Session) -> None:
    session.identify(visitor(available=30, taken={TISSUES.id: 1}), OFFERS)
    assert session.pick(NOODLES.id) is Refusal.SOLD_OUT
    assert session.pick(TISSUES.id) is None
    assert session.pick(TISSUES.id) is Refusal.DAILY_ITEM_CAP
    assert session.notice is not None and session.notice.params == {"n": 2}
    assert session.pick(WATER.id) is Refusal.INSUFFICIENT_BALANCE  # 15 + 20 > 30
    assert session.cart == [TISSUES]


def test_stock_counts_the_cart(session: Session) -> None:
    session.identify(visitor(), OFFERS)
    assert session.pick(WATER.id) is None
    assert session.pick(WATER.id) is Refusal.SOLD_OUT  # one bottle left


def test_the_visit_cap(session: Session) -> None:
    session.identify(visitor(available=1000), (Offer(TISSUES, 9, (1,)), Offer(WATER, 9, (2,))))
    for item in (TISSUES, TISSUES, WATER):
        assert session.pick(item.id) is None
    assert session.pick(WATER.id) is Refusal.VISIT_CAP


def test_unpicking_the_last_item_goes_back_to_identified(session: Session) -> None:
    session.identify(visitor(), OFFERS)
    session.pick(TISSUES.id)
    session.unpick(TISSUES.id)
    assert session.step is Step.IDENTIFIED and session.cart == []


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_cancel_at_every_step_before_dispensing_returns_to_idle(session: Session, steps: int) -> None:
    session.identify(visitor(), OFFERS)
    if steps >= 1:
        session.pick(TISSUES.id)
    if steps >= 2:
        session.review()
    session.cancel()
    assert session.step is Step.IDLE and session.volunteer is None and session.cart == []


def test_cancel_while_dispensing_skips_the_lines_not_started(session: Session) -> None:
    session.identify(visitor(), OFFERS)
    session.pick(TISSUES.id)
    session.pick(TISSUES.id)
    session.review()
    session.confirm()
    session.line_changed(0, LineStatus.DISPENSING)
    session.cancel()
    assert [s for _, s in session.lines] == [LineStatus.DISPENSING, LineStatus.SKIPPED]
    assert session.step is Step.DISPENSING  # the running turn is not abandoned
    session.line_changed(0, LineStatus.DISPENSED, 85)
    assert session.next_line() is None
    session.finish_dispensing()
    assert session.step is Step.RESULT


@pytest.mark.parametrize(
    ("step", "limit"),
    [(Step.IDENTIFIED, 30), (Step.CHOOSING, 60), (Step.CONFIRMING, 30), (Step.RESULT, 8)],
)
def test_inactivity_returns_to_idle(session: Session, clock: FakeClock, step: Step, limit: float) -> None:
    session.identify(visitor(), OFFERS)
    if step is not Step.IDENTIFIED:
        session.pick(TISSUES.id)
    if step in (Step.CONFIRMING, Step.RESULT):
        session.review()
    if step is Step.RESULT:
        session.confirm()
        session.line_changed(0, LineStatus.DISPENSED, 85)
        session.finish_dispensing()
    assert session.step is step
    clock.advance(limit - 1)
    assert not session.tick()
    session.touch()
    clock.advance(limit - 1)
    assert not session.tick()
    clock.advance(2)
    assert session.tick()
    assert session.step is Step.IDLE


def test_dispensing_never_times_out(session: Session, clock: FakeClock) -> None:
    session.identify(visitor(), OFFERS)
    session.pick(TISSUES.id)
    session.review()
    session.confirm()
    clock.advance(3600)
    assert not session.tick()
    assert session.step is Step.DISPENSING


def test_a_new_scan_is_refused_while_dispensing(session: Session) -> None:
    session.identify(visitor(), OFFERS)
    session.pick(TISSUES.id)
    session.review()
    session.confirm()
    assert not session.accepts_scan
    with pytest.raises(StepError):
        session.identify(visitor(), OFFERS)


def test_technician_flow(session: Session, clock: FakeClock) -> None:
    session.begin_tech("T1")
    assert session.step is Step.TECH_PIN
    session.tech_unlocked()
    assert session.step is Step.TECH
    clock.advance(301)
    assert session.tick() and session.step is Step.IDLE


def test_a_card_with_a_pin_asks_for_it_before_the_volunteer_is_shown(
    session: Session, clock: FakeClock
) -> None:
    session.ask_card_pin(CardHolder("V1", "赵小明"))
    assert session.step is Step.CARD_PIN and session.volunteer is None  # no balance before the PIN
    assert session.card_holder == CardHolder("V1", "赵小明") and session.accepts_scan
    session.refuse(Notice("card_pin_wrong", {"n": 4}))
    assert session.step is Step.CARD_PIN
    session.identify(visitor(), OFFERS)  # the right PIN
    assert session.step is Step.IDENTIFIED and session.card_holder is None


def test_a_locked_card_ends_the_visit_saying_why(session: Session) -> None:
    session.ask_card_pin(CardHolder("V1", "赵小明"))
    session.end_visit(Notice("card_pin_locked", {"n": 5}))
    assert session.step is Step.IDLE and session.card_holder is None
    assert session.notice == Notice("card_pin_locked", {"n": 5})


def test_the_card_pin_pad_times_out_like_every_step(session: Session, clock: FakeClock) -> None:
    session.ask_card_pin(CardHolder("V1", "赵小明"))
    clock.advance(29)
    assert not session.tick()
    clock.advance(2)
    assert session.tick() and session.step is Step.IDLE and session.card_holder is None


def test_another_scan_on_the_card_pin_pad_starts_a_new_visit(session: Session) -> None:
    session.ask_card_pin(CardHolder("V1", "赵小明"))
    session.begin_tech("T1")
    assert session.step is Step.TECH_PIN and session.card_holder is None
    with pytest.raises(StepError):
        session.ask_card_pin(CardHolder("V1", "赵小明"))


def test_offers_sum_enabled_lanes_and_pick_the_fullest() -> None:
    lanes = [Lane(1, 1, 10, 2), Lane(2, 1, 10, 5), Lane(3, 1, 10, 9, enabled=False), Lane(4, None, 5, 0)]
    offers = build_offers([TISSUES, WATER], lanes)
    assert offers == [Offer(TISSUES, 7, (1, 2))]
    chosen = pick_lane(lanes, TISSUES.id)
    assert chosen is not None and chosen.number == 2
    assert pick_lane(lanes, WATER.id) is None


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Limits(per_visit_items=0)
