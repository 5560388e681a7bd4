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


def test_each_lockout_in_a_row_lasts_longer_and_a_right_pin_starts_again() -> None:
    state, now, lengths = PinState(), 0.0, []
    for _ in range(7):
        for _ in range(5):
            state = state.after_failure(now)
        lengths.append(state.locked_until - now)
        assert state.minutes_left(now) == int(lengths[-1] // 60)
        now = state.locked_until
    assert lengths == [300, 900, 3600, 14400, 86400, 86400, 86400]
    assert PinState().after_failure(now).lockouts == 0  # the ladder restarts after a right PIN
