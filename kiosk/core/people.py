"""Volunteers and technicians as the screens see them, and how their names are shown.

A name on a public screen is masked to its first character (赵小明 → 赵**): enough for
the person in front of the screen to know it is them, not enough for a passer-by
(``protocol.ids.mask_name``, which the hub's honour roll uses too). Technicians' and
printed cards' PINs are checked against the hub's scrypt hashes (``protocol.pins``,
re-exported here); five wrong tries lock the PIN, for five minutes and longer each time
in a row (``core.card_pin`` has the rules of a try).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from protocol.ids import mask_name
from protocol.pins import hash_pin, pin_matches

from .catalog import Yibi
from .honour import Standing

__all__ = [
    "PIN_LOCK_S",
    "PIN_TRIES",
    "CardHolder",
    "PinState",
    "Volunteer",
    "hash_pin",
    "mask_name",
    "pin_matches",
]


@dataclass(frozen=True, slots=True)
class Volunteer:
    id: str
    name: str
    available: Yibi
    """Balance less open holds, as of the scan."""
    taken_today: Mapping[int, int] = field(default_factory=dict)
    """Items charged today, by item id (for the per-item daily cap)."""
    spend_limit: int | None = None
    """What the offline rules still allow today; ``None`` when they do not apply."""
    standing: Standing | None = None
    """Their hours and place this month on the honour roll, shown to them only."""

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


@dataclass(frozen=True, slots=True)
class CardHolder:
    """The volunteer a printed card names, while the card's PIN is asked for: no balance yet."""

    volunteer_id: str
    name: str

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


# --- technician and card PINs -----------------------------------------------------------

PIN_TRIES = 5
PIN_LOCK_S = 300
PIN_LOCKS_S = (300, 900, 3600, 4 * 3600, 24 * 3600)
"""Each lockout in a row lasts longer (5 min, 15, 60, 4 h, then a day each time), so guessing
a PIN at five tries a lockout takes years, not days; a right PIN starts the ladder again."""


@dataclass(frozen=True, slots=True)
class PinState:
    failures: int = 0
    locked_until: float = 0.0
    lockouts: int = 0
    """Lockouts since the last right PIN."""

    def locked(self, now: float) -> bool:
        return now < self.locked_until

    def after_failure(self, now: float) -> PinState:
        failures = self.failures + 1
        if failures >= PIN_TRIES:
            lock_s = PIN_LOCKS_S[min(self.lockouts, len(PIN_LOCKS_S) - 1)]
            return PinState(failures=0, locked_until=now + lock_s, lockouts=self.lockouts + 1)
        return PinState(failures=failures, locked_until=self.locked_until, lockouts=self.lockouts)

    def minutes_left(self, now: float) -> int:
        """Whole minutes until the lock ends, at least 1 (what the screen says)."""
        return max(1, int((self.locked_until - now + 59) // 60))

    @property
    def tries_left(self) -> int:
        return PIN_TRIES - self.failures
