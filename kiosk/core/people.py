"""Volunteers and technicians as the screens see them, and how their names are shown.

A name on a public screen is masked to its first character (赵小明 → 赵**): enough for
the person in front of the screen to know it is them, not enough for a passer-by.
Technician PINs are checked against the hub's scrypt hashes (``protocol.pins``, re-exported
here); five wrong tries lock the PIN for five minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from protocol.pins import hash_pin, pin_matches

from .catalog import Yibi

__all__ = ["PIN_LOCK_S", "PIN_TRIES", "PinState", "Volunteer", "hash_pin", "mask_name", "pin_matches"]


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return "**"
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


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

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


# --- technician PINs --------------------------------------------------------------------

PIN_TRIES = 5
PIN_LOCK_S = 300


@dataclass(frozen=True, slots=True)
class PinState:
    failures: int = 0
    locked_until: float = 0.0

    def locked(self, now: float) -> bool:
        return now < self.locked_until

    def after_failure(self, now: float) -> PinState:
        failures = self.failures + 1
        if failures >= PIN_TRIES:
            return PinState(failures=0, locked_until=now + PIN_LOCK_S)
        return PinState(failures=failures, locked_until=self.locked_until)

    @property
    def tries_left(self) -> int:
        return PIN_TRIES - self.failures
