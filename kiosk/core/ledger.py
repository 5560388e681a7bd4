"""Ledger arithmetic: the balance is derived from an append-only list of entries.

Kinds: ``credit`` (hours certified at the hub), ``hold`` (price set aside when a vend
starts), ``charge`` (the drop was confirmed; references its hold), ``release`` (the vend
failed; references its hold), ``reversal`` (a charge given back; references the charge).
Amounts are positive integers; the kind gives the sign. A hold is open until a charge or
a release references it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .catalog import Yibi


class EntryKind(StrEnum):
    CREDIT = "credit"
    HOLD = "hold"
    CHARGE = "charge"
    RELEASE = "release"
    REVERSAL = "reversal"


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    volunteer_id: str
    kind: EntryKind
    amount: Yibi
    ref: str | None = None
    item_id: int | None = None
    lane: int | None = None
    day: str | None = None
    """The kiosk's local date of the entry (the daily caps count by it)."""

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("益币 amounts are integers")
        if self.amount <= 0:
            raise ValueError("ledger amounts are positive; the kind gives the sign")
        if self.kind in (EntryKind.CHARGE, EntryKind.RELEASE, EntryKind.REVERSAL) and not self.ref:
            raise ValueError(f"a {self.kind} entry must reference what it settles")


@dataclass(frozen=True, slots=True)
class Balance:
    settled: Yibi
    held: Yibi

    @property
    def available(self) -> Yibi:
        return self.settled - self.held


SIGN = {
    EntryKind.CREDIT: 1,
    EntryKind.CHARGE: -1,
    EntryKind.REVERSAL: 1,
    EntryKind.HOLD: 0,
    EntryKind.RELEASE: 0,
}


def balance_of(entries: Iterable[Entry]) -> Balance:
    """Settled balance and open holds of one volunteer's entries."""
    settled = 0
    holds: dict[str, Yibi] = {}
    closed: set[str] = set()
    for e in entries:
        settled += SIGN[e.kind] * e.amount
        if e.kind is EntryKind.HOLD:
            holds[e.id] = e.amount
        elif e.kind in (EntryKind.CHARGE, EntryKind.RELEASE) and e.ref is not None:
            closed.add(e.ref)
    held = sum(amount for hold_id, amount in holds.items() if hold_id not in closed)
    return Balance(settled=settled, held=held)


def taken_on(entries: Iterable[Entry], day: str) -> dict[int, int]:
    """Items held on ``day`` and not released (charged, or still in the machine), by item."""
    entries = list(entries)
    released = {e.ref for e in entries if e.kind is EntryKind.RELEASE}
    taken: dict[int, int] = {}
    for e in entries:
        if e.kind is EntryKind.HOLD and e.day == day and e.item_id is not None and e.id not in released:
            taken[e.item_id] = taken.get(e.item_id, 0) + 1
    return taken


class HoldError(Exception):
    """A hold that cannot be placed or settled."""


def place_hold(balance: Balance, price: Yibi) -> None:
    """Raise unless ``price`` can be held without the balance going below zero."""
    if price <= 0:
        raise HoldError("a price is a positive number of 益币")
    if balance.available < price:
        raise HoldError("insufficient balance")
