"""The console's rules, as plain functions over plain data: who sees what, when an account
locks, which kiosk needs a visit first. The store loads the facts; the pages show the
outcome; nothing here touches a database or a request.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CITY_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
"""The city's clock (China keeps one time zone and no summer time): days in reports are its days."""


class Level(enum.StrEnum):
    DISTRICT = "district"  # 区
    STREET = "street"  # 街道
    COMMUNITY = "community"  # 社区


PARENT_LEVEL = {Level.DISTRICT: None, Level.STREET: Level.DISTRICT, Level.COMMUNITY: Level.STREET}
"""What each level sits under (a district under the city itself)."""


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything in their scope, staff accounts included
    STAFF = "staff"  # kiosks, prices, people in their scope
    VIEWER = "viewer"  # reads; changes nothing


def may_change(role: Role) -> bool:
    return role is not Role.VIEWER


@dataclass(frozen=True)
class OrgNode:
    id: int
    name: str
    level: Level
    parent_id: int | None


def placement_problem(level: Level, parent: OrgNode | None) -> str | None:
    """Why an org of ``level`` cannot sit under ``parent`` (None: it can)."""
    wanted = PARENT_LEVEL[level]
    if wanted is None:
        return None if parent is None else "a district sits under the city, not under another org"
    if parent is None or parent.level is not wanted:
        return f"a {level.value} sits under a {wanted.value}"
    return None


def subtree(orgs: Iterable[OrgNode], root: int) -> frozenset[int]:
    """``root`` and every org under it."""
    children: dict[int | None, list[int]] = {}
    for org in orgs:
        children.setdefault(org.parent_id, []).append(org.id)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return frozenset(found)


def path(orgs: Mapping[int, OrgNode], org_id: int | None, sep: str = " / ") -> str:
    """``浦东新区 / 花木街道 / 牡丹社区``; empty for the city itself."""
    names: list[str] = []
    seen: set[int] = set()
    while org_id is not None and org_id in orgs and org_id not in seen:
        seen.add(org_id)
        names.append(orgs[org_id].name)
        org_id = orgs[org_id].parent_id
    return sep.join(reversed(names))


def find_by_path(orgs: Iterable[OrgNode], text: str) -> OrgNode | None:
    """The org a person named as ``区/街道/社区`` (or by its number)."""
    nodes = list(orgs)
    if text.strip().isdigit():
        return next((o for o in nodes if o.id == int(text)), None)
    parent: int | None = None
    found: OrgNode | None = None
    for part in (p.strip() for p in text.split("/")):
        found = next((o for o in nodes if o.parent_id == parent and o.name == part), None)
        if found is None:
            return None
        parent = found.id
    return found


@dataclass(frozen=True)
class Scope:
    """The orgs a staff member sees: ``None`` is the whole city."""

    orgs: frozenset[int] | None

    def sees(self, org_id: int | None) -> bool:
        return self.orgs is None or (org_id is not None and org_id in self.orgs)


def scope_of(org_id: int | None, orgs: Iterable[OrgNode]) -> Scope:
    return Scope(None if org_id is None else subtree(orgs, org_id))


# --- signing in -----------------------------------------------------------------------

MAX_FAILURES = 5
LOCK_S = 15 * 60
SESSION_S = 8 * 3600
"""A working day; then sign in again."""


@dataclass(frozen=True)
class Attempt:
    failures: int
    locked_until: int | None


def locked(attempt: Attempt, now: int) -> bool:
    return attempt.locked_until is not None and attempt.locked_until > now


def after_failure(attempt: Attempt, now: int) -> Attempt:
    """One more wrong password: the fifth in a row locks the account for a quarter hour."""
    failures = attempt.failures + 1
    if failures >= MAX_FAILURES:
        return Attempt(0, now + LOCK_S)
    return Attempt(failures, attempt.locked_until)


# --- the fleet ------------------------------------------------------------------------

OFFLINE_AFTER_S = 15 * 60
"""A kiosk that has not reported for this long is offline (kiosks sync every minute)."""
LOW_STOCK = 2
"""A lane at or below this many items is low (the alert rules will make it per lane)."""


@dataclass(frozen=True)
class LaneView:
    lane: int
    item: str | None
    stock: int | None
    capacity: int | None
    fault: str | None
    low: bool


@dataclass(frozen=True)
class FleetRow:
    kiosk_id: str
    name: str
    place: str
    online: bool
    since: int | None  # the last report: online since / offline since
    last_good_sync: int | None
    lanes: list[LaneView] = field(default_factory=list)
    faults: int = 0
    in_doubt: int = 0
    queued: int = 0
    revoked: bool = False

    @property
    def low(self) -> int:
        return sum(1 for lane in self.lanes if lane.low)

    @property
    def urgency(self) -> tuple[int, ...]:
        """Larger first: offline, dispenses in doubt, faults, empty lanes, low lanes."""
        empty = sum(1 for lane in self.lanes if lane.stock == 0)
        return (0 if self.revoked else 1, int(not self.online), self.in_doubt, self.faults, empty, self.low)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def lane_view(raw: Mapping[str, Any], low_at: int = LOW_STOCK) -> LaneView:
    stock = _int(raw.get("stock"))
    fault = raw.get("fault")
    enabled = raw.get("enabled", True)
    if enabled is False and not fault:
        fault = "disabled"
    item = raw.get("item")
    return LaneView(
        lane=_int(raw.get("lane")) or 0,
        item=item if isinstance(item, str) else None,
        stock=stock,
        capacity=_int(raw.get("capacity")),
        fault=fault if isinstance(fault, str) and fault else None,
        low=stock is not None and stock <= low_at,
    )


def fleet_row(
    kiosk_id: str,
    name: str,
    place: str,
    report: Mapping[str, Any] | None,
    received_at: int | None,
    now: int,
    revoked: bool = False,
    offline_after_s: int = OFFLINE_AFTER_S,
) -> FleetRow:
    """One kiosk as the fleet page shows it, from its newest status report (if any)."""
    report = report or {}
    lanes = [lane_view(raw) for raw in report.get("lanes", []) if isinstance(raw, Mapping)]
    return FleetRow(
        kiosk_id=kiosk_id,
        name=name,
        place=place,
        online=received_at is not None and now - received_at <= offline_after_s,
        since=received_at,
        last_good_sync=_int(report.get("last_good_sync")),
        lanes=sorted(lanes, key=lambda lane: lane.lane),
        faults=sum(1 for lane in lanes if lane.fault),
        in_doubt=_int(report.get("in_doubt")) or 0,
        queued=_int(report.get("queued_events")) or 0,
        revoked=revoked,
    )


def needs_visit_first(rows: Sequence[FleetRow]) -> list[FleetRow]:
    return sorted(rows, key=lambda r: (tuple(-u for u in r.urgency), r.name))


# --- reports --------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value for a spreadsheet cell: text that a spreadsheet would run as a formula is
    prefixed with an apostrophe (CSV injection); numbers stay numbers."""
    if value.__class__ is str and value.startswith(FORMULA_START):
        return "'" + value
    return value
