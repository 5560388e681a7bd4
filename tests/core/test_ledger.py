"""Ledger arithmetic: the balance derived from entries, holds, and integer 益币."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.ledger import Balance, Entry, EntryKind, HoldError, balance_of, place_hold


def e(i: str, kind: EntryKind, amount: int, ref: str | None = None) -> Entry:
    return Entry(i, "V", kind, amount, ref)


def test_hold_then_charge_then_reversal() -> None:
    entries = [e("c", EntryKind.CREDIT, 100), e("h", EntryKind.HOLD, 15)]
    assert balance_of(entries) == Balance(settled=100, held=15)
    entries.append(e("x", EntryKind.CHARGE, 15, "h"))
    assert balance_of(entries) == Balance(settled=85, held=0)
    entries.append(e("r", EntryKind.REVERSAL, 15, "x"))
    assert balance_of(entries).available == 100


def test_a_released_hold_costs_nothing() -> None:
    entries = [e("c", EntryKind.CREDIT, 30), e("h", EntryKind.HOLD, 20), e("r", EntryKind.RELEASE, 20, "h")]
    assert balance_of(entries) == Balance(settled=30, held=0)


def test_entries_are_positive_integers_with_references() -> None:
    with pytest.raises(TypeError):
        Entry("a", "V", EntryKind.CREDIT, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Entry("a", "V", EntryKind.CREDIT, -5)
    with pytest.raises(ValueError):
        Entry("a", "V", EntryKind.CHARGE, 5)


def test_a_hold_needs_the_balance() -> None:
    place_hold(Balance(20, 5), 15)
    with pytest.raises(HoldError):
        place_hold(Balance(20, 6), 15)


@given(st.lists(st.tuples(st.sampled_from(["credit", "buy_ok", "buy_fail", "buy_open"]), st.integers(1, 50))))
def test_available_never_goes_below_zero_when_holds_are_checked(ops: list[tuple[str, int]]) -> None:
    entries: list[Entry] = []
    for n, (op, amount) in enumerate(ops):
        if op == "credit":
            entries.append(e(f"c{n}", EntryKind.CREDIT, amount))
            continue
        try:
            place_hold(balance_of(entries), amount)
        except HoldError:
            continue
        entries.append(e(f"h{n}", EntryKind.HOLD, amount))
        if op == "buy_ok":
            entries.append(e(f"s{n}", EntryKind.CHARGE, amount, f"h{n}"))
        elif op == "buy_fail":
            entries.append(e(f"s{n}", EntryKind.RELEASE, amount, f"h{n}"))
        balance = balance_of(entries)
        assert balance.available >= 0
        assert balance.settled >= balance.held
