"""光荣榜 on the kiosk: the board the hub sent, read into plain values, and one volunteer's
own standing — which only that volunteer sees, after their scan.

The hub ranks (``hub/honour.py``); the kiosk only reads what came down: masked names and
hours, never a balance. Hours travel as tenths of an hour (12.5 h is 125).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Ranked = tuple[tuple[str, int], ...]
"""``(masked name, tenths of an hour)``, best first."""


@dataclass(frozen=True, slots=True)
class HonourRoll:
    month: int  # YYYYMM
    community: str | None
    street: str | None
    community_month: Ranked = ()
    community_all: Ranked = ()
    street_month: Ranked = ()
    street_all: Ranked = ()

    @property
    def shown(self) -> bool:
        """Anything to show: someone served this month or ever."""
        return bool(self.community_month or self.street_month or self.community_all or self.street_all)


@dataclass(frozen=True, slots=True)
class Standing:
    """A volunteer's own month: hours and place in their community (only they see it)."""

    tenths: int
    place: int
    community: str | None


def _ranked(rows: Any) -> Ranked:
    return tuple((str(name), int(tenths)) for name, tenths in rows or ())


def roll(board: Mapping[str, Any] | None) -> HonourRoll | None:
    """The board as the idle screen shows it (None: the hub sent none)."""
    if not board:
        return None
    return HonourRoll(
        month=int(board["month"]),
        community=board.get("community"),
        street=board.get("street"),
        community_month=_ranked(board.get("community_month")),
        community_all=_ranked(board.get("community_all")),
        street_month=_ranked(board.get("street_month")),
        street_all=_ranked(board.get("street_all")),
    )


def standings(board: Mapping[str, Any] | None) -> dict[str, Standing]:
    """Each volunteer's standing this month, by id (those who served in it and are on the roll)."""
    if not board:
        return {}
    community = board.get("community")
    return {
        str(vid): Standing(int(t), int(place), community) for vid, t, place in board.get("standings") or ()
    }


def hours(tenths: int) -> str:
    """Tenths of an hour as people write hours: 120 → ``12``, 25 → ``2.5``."""
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)
