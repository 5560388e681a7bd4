"""The console's rules, as plain functions over plain data: who sees what, when an account
locks, which kiosk needs a visit first. The store loads the facts; the pages show the
outcome; nothing here touches a database or a request.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .words import N_

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
class Thresholds:
    """When a lane is low: at or below so many items. The most particular setting wins: this
    kiosk's lane, then this kiosk's item, then the item at every kiosk, then ``default``."""

    default: int = LOW_STOCK
    lanes: Mapping[tuple[str, int], int] = field(default_factory=dict)
    kiosk_items: Mapping[tuple[str, str], int] = field(default_factory=dict)
    items: Mapping[str, int] = field(default_factory=dict)

    def low_at(self, kiosk_id: str, lane: int, item: str | None) -> int:
        if (kiosk_id, lane) in self.lanes:
            return self.lanes[(kiosk_id, lane)]
        if item is not None and (kiosk_id, item) in self.kiosk_items:
            return self.kiosk_items[(kiosk_id, item)]
        if item is not None and item in self.items:
            return self.items[item]
        return self.default


MAX_THRESHOLD = 1000
"""Items a lane could hold, at most: a threshold above it is a typo."""


def threshold_problem(kiosk_id: str | None, lane: int | None, item: str | None, at: int) -> str | None:
    """Why a threshold cannot be kept (a message id), or None."""
    if (lane is None) == (item is None):
        return N_("请填写货道号或物品名称（二选一）")
    if lane is not None and kiosk_id is None:
        return N_("货道提醒线要指定一台自助机")
    if not 0 <= at <= MAX_THRESHOLD:
        return N_("提醒线应是 0 到 1000 之间的整数")
    if item is not None and not 1 <= len(item) <= 100:
        return N_("物品名称应为 1 到 100 个字")
    return None


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
    trust_synced_at: int | None = None
    """When the kiosk last took the trust list (its report says; None: never, or an older kiosk)."""
    trust_max_age_s: int | None = None
    """How old the kiosk lets its trust list get before it stops taking codes."""

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


def lane_view(raw: Mapping[str, Any], low_at: int | Callable[[int, str | None], int] = LOW_STOCK) -> LaneView:
    stock = _int(raw.get("stock"))
    fault = raw.get("fault")
    enabled = raw.get("enabled", True)
    if enabled is False and not fault:
        fault = "disabled"
    item = raw.get("item") if isinstance(raw.get("item"), str) else None
    number = _int(raw.get("lane")) or 0
    at = low_at(number, item) if callable(low_at) else low_at
    return LaneView(
        lane=number,
        item=item,
        stock=stock,
        capacity=_int(raw.get("capacity")),
        fault=fault if isinstance(fault, str) and fault else None,
        low=stock is not None and stock <= at,
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
    thresholds: Thresholds | None = None,
) -> FleetRow:
    """One kiosk as the fleet page shows it, from its newest status report (if any)."""
    report = report or {}
    limits = thresholds or Thresholds()

    def low_at(lane: int, item: str | None) -> int:
        return limits.low_at(kiosk_id, lane, item)

    lanes = [lane_view(raw, low_at) for raw in report.get("lanes", []) if isinstance(raw, Mapping)]
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
        trust_synced_at=_int(report.get("trust_synced_at")),
        trust_max_age_s=_int(report.get("trust_max_age_s")),
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


# --- the catalogue and donors ---------------------------------------------------------

MAX_PRICE = 100_000
"""益币 an item may cost, at most (10,000 hours of service: a typo, not a price)."""
MAX_ITEMS = 1000
"""Items on sale at once (a pull page carries them all)."""


@dataclass(frozen=True)
class CatalogueDraft:
    """An item as a person typed it: names, price and donor, before the hub keeps it."""

    name_zh: str
    name_en: str
    price: str
    donor: str = ""


@dataclass(frozen=True)
class CatalogueValues:
    name_zh: str
    name_en: str
    price: int
    donor: str | None


def catalogue_values(draft: CatalogueDraft) -> CatalogueValues | str:
    """The values to keep, or why not (a sentence's message id)."""
    name_zh, name_en, donor = draft.name_zh.strip(), draft.name_en.strip(), draft.donor.strip()
    if not name_zh or len(name_zh) > 100 or len(name_en) > 100 or len(donor) > 100:
        return N_("商品名称应为 1 到 100 个字，英文名和捐赠单位最多 100 个字")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name_zh + name_en + donor):
        return N_("商品名称里有无法显示的字符")
    price = draft.price.strip()
    if not (price.isascii() and price.isdigit()) or not 1 <= int(price) <= MAX_PRICE:
        return N_("价格应是 1 到 100000 之间的整数益币")
    return CatalogueValues(name_zh, name_en, int(price), donor or None)


@dataclass(frozen=True)
class DonorLine:
    """What one donor's item came to: given in the period, redeemed in it (and where), and
    what is left of all that was ever given as the period ends."""

    donor: str
    item: str
    given: int
    redeemed: int
    left: int
    where: tuple[tuple[str, int], ...]
    """(kiosk, items redeemed there), most first."""


def donor_lines(
    items: Sequence[tuple[int, str, str]],
    given: Mapping[int, tuple[int, int]],
    redeemed: Mapping[int, Mapping[str, tuple[int, int]]],
) -> list[DonorLine]:
    """The donors' report from loaded facts.

    ``items`` are ``(item id, donor, name)``; ``given[item]`` is ``(in the period, up to its
    end)``; ``redeemed[item][kiosk]`` the same pair for redemptions. Left is never shown
    below nothing: more redeemed than given means the lanes also held bought stock.
    """
    lines = []
    for item_id, donor, name in items:
        given_now, given_all = given.get(item_id, (0, 0))
        at = redeemed.get(item_id, {})
        where = tuple(sorted(((k, n) for k, (n, _) in at.items() if n), key=lambda kn: (-kn[1], kn[0])))
        redeemed_all = sum(total for _, total in at.values())
        lines.append(
            DonorLine(
                donor, name, given_now, sum(n for _, n in where), max(given_all - redeemed_all, 0), where
            )
        )
    return sorted(lines, key=lambda line: (line.donor, line.item))
