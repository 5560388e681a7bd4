from __future__ import annotations

from kiosk.core.people import PIN_LOCK_S, PinState, hash_pin, mask_name, pin_matches


def test_names_are_masked_to_their_first_character() -> None:
    assert mask_name("赵小明") == "赵**"
    assert mask_name("赵敏") == "赵*"
    assert mask_name("欧阳娜娜娜") == "欧***"
    assert mask_name("") == "**"


def test_pins_are_hashed_and_checked() -> None:
    stored = hash_pin("2468")
    assert "2468" not in stored
    assert pin_matches("2468", stored)
    assert not pin_matches("2469", stored)
    assert not pin_matches("2468", "plain")


def test_five_wrong_tries_lock_for_five_minutes() -> None:
    state = PinState()
    for _ in range(4):
        state = state.after_failure(100.0)
        assert not state.locked(100.0)
    state = state.after_failure(100.0)
    assert state.locked(100.0)
    assert state.locked(100.0 + PIN_LOCK_S - 1)
    assert not state.locked(100.0 + PIN_LOCK_S)
