"""Ids as people type them: trimmed (full-width spaces too), NFKC, and an id with a space inside refused."""

from __future__ import annotations

import pytest

from protocol.ids import BadId, clean_id


@pytest.mark.parametrize(
    ("typed", "id_"),
    [
        ("V0001", "V0001"),
        ("  V0001\t", "V0001"),
        ("\u3000V0001\u3000", "V0001"),  # a full-width space, as a Chinese input method types it
        ("Ｖ０００１", "V0001"),  # full-width letters and digits
        ("V0001\n", "V0001"),  # pasted with its line break
        ("志愿者-7", "志愿者-7"),
    ],
)
def test_an_id_is_trimmed_and_normalised(typed: str, id_: str) -> None:
    assert clean_id(typed) == id_


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("V 0001", "volunteer id: 'V 0001' contains U+0020: an id has no spaces or control characters"),
        ("V\u30000001", "volunteer id: 'V 0001' contains U+0020"),  # NFKC makes it a plain space
        ("V\t0001", "volunteer id: 'V\\t0001' contains U+0009"),
        ("V\x000001", "volunteer id: 'V\\x000001' contains U+0000"),
        ("V\u200b0001", "volunteer id: 'V\\u200b0001' contains U+200B"),  # zero-width: invisible, no id
        ("", "volunteer id: is empty"),
        (" \u3000 ", "volunteer id: is empty"),
        ("V" * 65, "volunteer id: 65 characters, at most 64"),
    ],
)
def test_an_id_with_a_space_inside_or_a_control_character_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(BadId) as refused:
        clean_id(typed)
    assert str(refused.value).startswith(reason) and "\n" not in str(refused.value)


def test_the_field_and_the_length_are_the_callers() -> None:
    assert clean_id(" c" + "x" * 99, "card id", 100) == "c" + "x" * 99
    with pytest.raises(BadId, match=r"^technician id: 'T 1'"):
        clean_id("T 1", "technician id")
