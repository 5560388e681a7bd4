"""光荣榜's ranking, as the hub makes a board and a kiosk's demo stands in for it: the top
volunteers by certified hours with their names masked, each volunteer's own place, and a
stamp naming the board's content (``HonourBoard`` in ``protocol.sync`` is what travels)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .ids import mask_name
from .sync import HonourBoard

TOP = 10
"""Volunteers on each list."""


@dataclass(frozen=True)
class Hours:
    volunteer_id: str
    name: str
    tenths: int
    """Tenths of an hour (12.5 h is 125)."""


def _ranked(rows: Iterable[Hours]) -> list[Hours]:
    return sorted((r for r in rows if r.tenths > 0), key=lambda r: (-r.tenths, r.volunteer_id))


def top(rows: Iterable[Hours], n: int = TOP) -> list[tuple[str, int]]:
    """The ``n`` with the most hours (more than none), ties by id: ``(masked name, tenths)``."""
    return [(mask_name(r.name), r.tenths) for r in _ranked(rows)[:n]]


def standings(rows: Iterable[Hours]) -> list[tuple[str, int, int]]:
    """Every volunteer with hours: ``(id, tenths, place)``; equal hours, equal place."""
    out: list[tuple[str, int, int]] = []
    for i, r in enumerate(_ranked(rows)):
        place = out[-1][2] if out and out[-1][1] == r.tenths else i + 1
        out.append((r.volunteer_id, r.tenths, place))
    return out


def stamped(body: Mapping[str, Any]) -> HonourBoard:
    """A board with its stamp: the first 16 hex digits of its content's SHA-256."""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    return HonourBoard.model_validate({**body, "stamp": hashlib.sha256(text.encode()).hexdigest()[:16]})
