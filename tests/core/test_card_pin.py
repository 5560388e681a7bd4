"""Whether a scan asks for a card PIN, and what a typed PIN gets (no screen, no database)."""

from __future__ import annotations

import pytest

from kiosk.core.card_pin import (
    CardGate,
    CardHolder,
    PinVerdict,
    answer_pin,
    card_gate,
    card_locked_notice,
    card_pin_notice,
)
from kiosk.core.people import PinState, hash_pin
from kiosk.core.session import Notice
from protocol.codes import CodeKind

HASH = hash_pin("135790")
NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("kind", "pin", "gate"),
    [
        (CodeKind.CARD, (HASH, PinState()), CardGate.ASK),
        (CodeKind.CARD, None, CardGate.OPEN),  # a card without a PIN: as before
        (CodeKind.APP, (HASH, PinState()), CardGate.OPEN),  # the phone's code never asks
        (CodeKind.APP, (HASH, PinState(0, NOW + 60, 1)), CardGate.OPEN),  # nor when the card is locked
        (CodeKind.CARD, (HASH, PinState(0, NOW + 60, 1)), CardGate.LOCKED),
        (CodeKind.CARD, (HASH, PinState(0, NOW - 1, 1)), CardGate.ASK),  # the lock is over
    ],
)
def test_only_a_card_with_a_pin_asks_for_it(
    kind: CodeKind, pin: tuple[str, PinState] | None, gate: CardGate
) -> None:
    assert card_gate(kind, pin, NOW) is gate


def test_the_right_pin_is_accepted_and_starts_the_ladder_again() -> None:
    answer = answer_pin("135790", HASH, PinState(3, NOW - 10, 2), NOW)
    assert answer.verdict is PinVerdict.ACCEPTED and answer.state == PinState() and answer.checked
    assert card_pin_notice(answer, NOW) is None


def test_five_wrong_pins_lock_the_card_and_say_when_to_try_again() -> None:
    state = PinState()
    for left in (4, 3, 2, 1):
        answer = answer_pin("000000", HASH, state, NOW)
        assert answer.verdict is PinVerdict.WRONG and answer.locked_for_s is None
        assert card_pin_notice(answer, NOW) == Notice("card_pin_wrong", {"n": left})
        state = answer.state
    answer = answer_pin("000000", HASH, state, NOW)
    assert answer.verdict is PinVerdict.LOCKED and answer.locked_for_s == 300
    assert card_pin_notice(answer, NOW) == Notice("card_pin_locked", {"n": 5})
    refused = answer_pin("135790", HASH, answer.state, NOW + 299)  # the right PIN, still locked
    assert refused.verdict is PinVerdict.LOCKED and not refused.checked and refused.state == answer.state
    assert card_pin_notice(refused, NOW + 299) == Notice("card_pin_locked", {"n": 1})
    assert answer_pin("135790", HASH, answer.state, NOW + 300).verdict is PinVerdict.ACCEPTED


def test_each_lockout_in_a_row_lasts_longer() -> None:
    second = answer_pin("000000", HASH, PinState(4, 0.0, 1), NOW)
    assert second.locked_for_s == 900 and second.state.lockouts == 2
    fourth = answer_pin("000000", HASH, PinState(4, 0.0, 3), NOW)
    assert fourth.locked_for_s == 4 * 3600


@pytest.mark.parametrize(
    ("left_s", "notice"),
    [
        (59, Notice("card_pin_locked", {"n": 1})),
        (3600, Notice("card_pin_locked", {"n": 60})),
        (3601, Notice("card_pin_locked_hours", {"n": 2})),
        (4 * 3600, Notice("card_pin_locked_hours", {"n": 4})),
        (24 * 3600, Notice("card_pin_locked_hours", {"n": 24})),
    ],
)
def test_a_long_lockout_is_told_in_hours(left_s: int, notice: Notice) -> None:
    assert card_locked_notice(PinState(0, NOW + left_s, 4), NOW) == notice


def test_the_pin_screen_greets_the_holder_by_a_masked_name() -> None:
    assert CardHolder("V0003", "孙建国").masked_name == "孙**"
