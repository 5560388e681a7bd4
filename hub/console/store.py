"""The console's facts and outcomes: orgs, staff and their sessions, the fleet, redemptions.

Each function is one unit of work on the hub's database (``Hub.unit`` / ``Hub.reading``):
it loads the facts a rule in ``rules.py`` needs, or saves what a rule decided. Every
change a person makes through the console is written to ``hub_audit`` with who did it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session

from protocol.pins import hash_pin, pin_matches

from ..models import HubAudit, Kiosk, KioskStatus, LedgerEntry, Org, Staff, StaffSession, Volunteer
from ..service import Hub, UnknownClient
from .rules import (
    SESSION_S,
    Attempt,
    FleetRow,
    Level,
    OrgNode,
    Role,
    Scope,
    after_failure,
    find_by_path,
    fleet_row,
    locked,
    needs_visit_first,
    path,
    placement_problem,
    scope_of,
)

MIN_PASSWORD = 10
"""A console password's least length: the console is reachable from the office's network."""


class ConsoleError(ValueError):
    """A request the console refuses, in one line a person can act on."""


@dataclass(frozen=True)
class Who:
    """The signed-in person a request is made for."""

    staff_id: int
    name: str
    role: Role
    org_id: int | None
    scope: Scope
    csrf: str


def session_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def audit(s: Session, hub: Hub, actor: str, action: str, target: str, **detail: Any) -> None:
    body = json.dumps(detail, ensure_ascii=False)
    s.add(HubAudit(at=int(hub.clock()), actor=f"staff:{actor}", action=action, target=target, detail=body))


# --- orgs -----------------------------------------------------------------------------


def org_nodes(s: Session) -> list[OrgNode]:
    return [
        OrgNode(o.id, o.name, Level(o.level), o.parent_id) for o in s.scalars(select(Org).order_by(Org.id))
    ]


def orgs(hub: Hub) -> list[OrgNode]:
    with hub.reading() as s:
        return org_nodes(s)


def find_org(hub: Hub, text: str) -> OrgNode:
    found = find_by_path(orgs(hub), text)
    if found is None:
        raise ConsoleError(f"no org {text!r}; `kiosk-hub org list` shows them (write 区/街道/社区)")
    return found


def add_org(hub: Hub, name: str, level: Level, parent: str | None) -> OrgNode:
    name = name.strip()
    if not name or "/" in name or len(name) > 100:
        raise ConsoleError("an org's name is 1 to 100 characters, without '/'")
    under = find_org(hub, parent) if parent else None
    problem = placement_problem(level, under)
    if problem:
        raise ConsoleError(problem)
    parent_id = under.id if under else None
    with hub.unit() as s:
        if s.scalar(
            select(Org.id).where(
                Org.parent_id.is_(parent_id) if parent_id is None else Org.parent_id == parent_id,
                Org.name == name,
            )
        ):
            raise ConsoleError(f"{name} is there already")
        row = Org(name=name, level=level.value, parent_id=parent_id, created_at=int(hub.clock()))
        s.add(row)
        s.flush()
        return OrgNode(row.id, row.name, level, parent_id)


def org_tree(hub: Hub) -> list[dict[str, Any]]:
    nodes = orgs(hub)
    by_id = {o.id: o for o in nodes}
    with hub.reading() as s:
        placed = dict(
            s.execute(
                select(Kiosk.org_id, func.count()).where(Kiosk.role == "kiosk").group_by(Kiosk.org_id)
            ).all()
        )
    return [
        {
            "id": o.id,
            "path": path(by_id, o.id, "/"),
            "level": o.level.value,
            "kiosks": int(placed.get(o.id, 0)),
        }
        for o in sorted(nodes, key=lambda o: path(by_id, o.id, "/"))
    ]


def place_kiosk(hub: Hub, kiosk_id: str, org: str) -> None:
    where = find_org(hub, org)
    with hub.unit() as s:
        row = s.get(Kiosk, kiosk_id)
        if row is None or row.role != "kiosk":
            raise UnknownClient(kiosk_id)
        row.org_id = where.id


# --- staff and sessions -----------------------------------------------------------------


def add_staff(hub: Hub, name: str, role: Role, org: str | None, password: str) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ConsoleError("a staff name is 1 to 64 characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise ConsoleError(f"a password is at least {MIN_PASSWORD} characters")
    where = find_org(hub, org) if org else None
    with hub.unit() as s:
        row = s.scalar(select(Staff).where(Staff.name == name))
        if row is None:
            row = Staff(name=name, created_at=int(hub.clock()), failures=0, active=True)
            s.add(row)
        row.password_hash = hash_pin(password)
        row.role = role.value
        row.org_id = where.id if where else None
        row.active, row.failures, row.locked_until = True, 0, None
        s.flush()
        s.execute(delete(StaffSession).where(StaffSession.staff_id == row.id))
        audit(s, hub, "kiosk-hub", "staff_set", f"staff:{name}", role=role.value, org=org or "")
        return {"staff": name, "role": role.value, "in": org or ""}


class SignInRefused(Exception):
    """Wrong name or password, or locked: the page says the same for both (``locked_until`` for the lock)."""

    def __init__(self, locked_until: int | None = None) -> None:
        super().__init__("sign-in refused")
        self.locked_until = locked_until


def sign_in(hub: Hub, name: str, password: str) -> str:
    """A new session's cookie value for the right name and password; else :class:`SignInRefused`
    (a wrong password is counted, and the fifth in a row locks the account)."""
    now = int(hub.clock())
    refused: SignInRefused | None = None
    with hub.unit() as s:
        row = s.scalar(select(Staff).where(Staff.name == name.strip(), Staff.active.is_(True)))
        if row is None:
            hash_pin(password)  # as long as a real check: the time tells no name apart
            refused = SignInRefused()
        elif locked(Attempt(row.failures, row.locked_until), now):
            refused = SignInRefused(row.locked_until)
        elif not pin_matches(password, row.password_hash):
            attempt = after_failure(Attempt(row.failures, row.locked_until), now)
            row.failures, row.locked_until = attempt.failures, attempt.locked_until
            if locked(attempt, now):
                audit(s, hub, row.name, "staff_locked", f"staff:{row.name}")
            refused = SignInRefused(attempt.locked_until if locked(attempt, now) else None)
        else:
            row.failures, row.locked_until = 0, None
            cookie = secrets.token_urlsafe(32)
            s.add(
                StaffSession(
                    id_hash=session_hash(cookie),
                    staff_id=row.id,
                    csrf=secrets.token_urlsafe(24),
                    created_at=now,
                    expires_at=now + SESSION_S,
                )
            )
            s.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
            audit(s, hub, row.name, "signed_in", f"staff:{row.name}")
    if refused is not None:
        raise refused
    return cookie


def who(hub: Hub, cookie: str) -> Who | None:
    now = int(hub.clock())
    with hub.reading() as s:
        found = s.execute(
            select(Staff, StaffSession.csrf)
            .join(StaffSession, StaffSession.staff_id == Staff.id)
            .where(
                StaffSession.id_hash == session_hash(cookie),
                StaffSession.expires_at > now,
                Staff.active.is_(True),
            )
        ).first()
        if found is None:
            return None
        staff, csrf = found
        return Who(
            staff.id, staff.name, Role(staff.role), staff.org_id, scope_of(staff.org_id, org_nodes(s)), csrf
        )


def sign_out(hub: Hub, cookie: str) -> None:
    with hub.unit() as s:
        s.execute(delete(StaffSession).where(StaffSession.id_hash == session_hash(cookie)))


# --- the fleet ------------------------------------------------------------------------


def fleet(hub: Hub, scope: Scope) -> list[FleetRow]:
    now = int(hub.clock())
    with hub.reading() as s:
        by_id = {o.id: o for o in org_nodes(s)}
        rows = s.execute(
            select(Kiosk, KioskStatus)
            .outerjoin(KioskStatus, KioskStatus.kiosk_id == Kiosk.id)
            .where(Kiosk.role == "kiosk")
        ).all()
    shown = [
        fleet_row(
            k.id,
            k.name,
            path(by_id, k.org_id),
            None if st is None else json.loads(st.body),
            None if st is None else st.received_at,
            now,
            revoked=k.revoked_at is not None,
        )
        for k, st in rows
        if scope.sees(k.org_id)
    ]
    return needs_visit_first(shown)


# --- redemptions ------------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionFilter:
    start: int  # unix seconds, inclusive
    end: int  # exclusive
    kiosk_ids: frozenset[str] | None = None  # None: every kiosk in scope
    item: str | None = None
    volunteer_id: str | None = None


def kiosks_in(hub: Hub, scope: Scope) -> dict[str, str]:
    with hub.reading() as s:
        return {
            k.id: k.name
            for k in s.scalars(select(Kiosk).where(Kiosk.role == "kiosk").order_by(Kiosk.name))
            if scope.sees(k.org_id)
        }


LEDGER = LedgerEntry.__table__
VOLUNTEERS = Volunteer.__table__
KIOSKS = Kiosk.__table__


def _redemption_filter(f: RedemptionFilter, scope_kiosks: dict[str, str] | None) -> list[ColumnElement[bool]]:
    """The WHERE of a redemption report, on the ledger's columns (Core: no ORM per row)."""
    given_back = LEDGER.alias("given_back")
    where: list[ColumnElement[bool]] = [
        LEDGER.c.kind == "redemption",
        LEDGER.c.at >= f.start,
        LEDGER.c.at < f.end,
        # a charge a technician gave back is no redemption (the partial index on reverses serves this)
        ~exists().where(given_back.c.reverses == LEDGER.c.event_id),
    ]
    chosen = f.kiosk_ids
    if scope_kiosks is not None:
        chosen = frozenset(scope_kiosks) if chosen is None else chosen & frozenset(scope_kiosks)
    if chosen is not None:
        where.append(LEDGER.c.kiosk_id.in_(sorted(chosen)))
    if f.item:
        where.append(LEDGER.c.item_name == f.item)
    if f.volunteer_id:
        where.append(LEDGER.c.volunteer_id == f.volunteer_id)
    return where


CITY_DAY_OFFSET = 8 * 3600
"""Seconds from UTC to the city's clock: a report's day starts at midnight there."""


def redemption_totals(hub: Hub, f: RedemptionFilter, scope_kiosks: dict[str, str] | None) -> dict[str, Any]:
    """Totals per item, per kiosk and per day (the city's days), from one pass over the
    month in the database (grouped by all three), summed up here."""
    day = func.floor((LEDGER.c.at + CITY_DAY_OFFSET) / 86400).label("day")
    q = (
        select(
            day,
            LEDGER.c.kiosk_id,
            LEDGER.c.item_name,
            func.sum(func.coalesce(LEDGER.c.quantity, 1)),
            func.sum(-LEDGER.c.amount),
        )
        .where(*_redemption_filter(f, scope_kiosks))
        .group_by(day, LEDGER.c.kiosk_id, LEDGER.c.item_name)
    )
    by_item: dict[Any, list[int]] = {}
    by_kiosk: dict[Any, list[int]] = {}
    by_day: dict[Any, list[int]] = {}
    with hub.reading() as s:
        for d, kiosk_id, item, n, spent in s.execute(q):
            for table, key in ((by_item, item or "?"), (by_kiosk, kiosk_id or "?"), (by_day, int(d))):
                sums = table.setdefault(key, [0, 0])
                sums[0] += int(n)
                sums[1] += int(spent)

    def ranked(table: dict[Any, list[int]]) -> list[tuple[Any, int, int]]:
        return sorted(((k, n, v) for k, (n, v) in table.items()), key=lambda t: (-t[2], str(t[0])))

    return {
        "by_item": ranked(by_item),
        "by_kiosk": ranked(by_kiosk),
        "by_day": sorted((k, n, v) for k, (n, v) in by_day.items()),
        "items": sum(n for n, _ in by_item.values()),
        "spent": sum(v for _, v in by_item.values()),
    }


class Redemption(NamedTuple):
    """One redemption as reports show it (a plain row: a million of them stream by)."""

    at: int
    volunteer_id: str
    volunteer_name: str | None
    item: str | None
    quantity: int | None
    unit_price: int | None
    amount: int  # as the ledger has it: negative
    kiosk: str | None
    kiosk_id: str | None
    lane: int | None
    event_id: str | None

    @property
    def spent(self) -> int:
        return -self.amount


def redemption_rows(
    hub: Hub,
    f: RedemptionFilter,
    scope_kiosks: dict[str, str] | None,
    limit: int | None = None,
    chunk: int = 5000,
) -> Iterator[Redemption]:
    """The redemptions, newest first, streamed from the database ``chunk`` rows at a time
    (a server-side cursor on PostgreSQL): the export never holds them all."""
    q = (
        select(
            LEDGER.c.at,
            LEDGER.c.volunteer_id,
            VOLUNTEERS.c.name,
            LEDGER.c.item_name,
            LEDGER.c.quantity,
            LEDGER.c.unit_price,
            LEDGER.c.amount,
            KIOSKS.c.name,
            LEDGER.c.kiosk_id,
            LEDGER.c.lane,
            LEDGER.c.event_id,
        )
        .select_from(
            LEDGER.outerjoin(VOLUNTEERS, VOLUNTEERS.c.id == LEDGER.c.volunteer_id).outerjoin(
                KIOSKS, KIOSKS.c.id == LEDGER.c.kiosk_id
            )
        )
        .where(*_redemption_filter(f, scope_kiosks))
        .order_by(LEDGER.c.at.desc(), LEDGER.c.seq.desc())
    )
    if limit is not None:
        q = q.limit(limit)
    with hub.reading() as s:
        result = s.connection().execution_options(yield_per=chunk).execute(q)
        for part in result.partitions():
            yield from map(Redemption._make, part)
