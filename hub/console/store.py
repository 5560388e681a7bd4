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
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, case, delete, exists, func, literal, select, text
from sqlalchemy.orm import Session

from protocol.codes import CodeKind
from protocol.ids import BadId, clean_id
from protocol.pins import hash_pin, pin_matches

from ..models import (
    CardPin,
    HubAudit,
    Kiosk,
    KioskStatus,
    LedgerEntry,
    Org,
    RedemptionDay,
    ReportWatermark,
    Staff,
    StaffSession,
    StockThreshold,
    Technician,
    Volunteer,
)
from ..service import Hub, UnknownClient, UnknownTechnician, UnknownVolunteer
from .rules import (
    FORMULA_START,
    LOW_STOCK,
    SESSION_S,
    Attempt,
    FleetRow,
    Level,
    OrgNode,
    Role,
    Scope,
    Thresholds,
    after_failure,
    find_by_path,
    fleet_row,
    locked,
    needs_visit_first,
    path,
    placement_problem,
    scope_of,
    threshold_problem,
)
from .words import N_

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


def register_kiosk(hub: Hub, who: Who, name: str, org_id: int) -> dict[str, str]:
    """A new kiosk placed in ``org_id`` (which the person must see); its token, shown once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ConsoleError(N_("自助机名称应为 1 到 100 个字"))
    if not who.scope.sees(org_id) or org_id not in {o.id for o in orgs(hub)}:
        raise ConsoleError(N_("只能在您负责的地区登记自助机"))
    try:
        added = hub.add_kiosk(name)
    except ValueError:
        raise ConsoleError(N_("已有同名的自助机")) from None
    with hub.unit() as s:
        row = s.get(Kiosk, added["kiosk_id"])
        assert row is not None
        row.org_id = org_id
        audit(s, hub, who.name, "kiosk_added", f"kiosk:{row.id}", name=name, org=org_id)
    return added


def retire_kiosk(hub: Hub, who: Who, kiosk_id: str) -> None:
    """The kiosk's token stops working now (``Hub.revoke_client``), recorded as this person's."""
    with hub.reading() as s:
        row = s.get(Kiosk, kiosk_id)
        if row is None or row.role != "kiosk" or not who.scope.sees(row.org_id):
            raise UnknownClient(kiosk_id)
    hub.revoke_client(kiosk_id, "kiosk", actor=f"staff:{who.name}")


def technicians(hub: Hub) -> list[dict[str, Any]]:
    """Every technician the hub knows (city-wide: a technician may open any kiosk)."""
    with hub.reading() as s:
        return [
            {"id": t.id, "name": t.name, "active": t.active}
            for t in s.scalars(select(Technician).order_by(Technician.active.desc(), Technician.id))
        ]


def may_manage_technicians(who: Who) -> bool:
    """Technicians open every kiosk of the city: only the city's own staff add or remove them."""
    return who.scope.orgs is None and who.role is not Role.VIEWER


def add_technician(hub: Hub, who: Who, tech_id: str, name: str, pin: str) -> str:
    """Add a technician (or change their name and PIN); their id as stored."""
    if not may_manage_technicians(who):
        raise ConsoleError(N_("只有全市的工作人员可以管理技术员"))
    try:
        tech_id = clean_id(tech_id, "technician id")
    except BadId:
        raise ConsoleError(N_("技术员编号不能有空格，最多 64 个字")) from None
    name = name.strip()
    if not name or len(name) > 100:
        raise ConsoleError(N_("技术员姓名应为 1 到 100 个字"))
    try:
        hub.set_technician(tech_id, name, pin)
    except ValueError:  # the PIN's shape; the sentence never repeats the PIN
        raise ConsoleError(N_("技术员密码应为 6 到 8 位数字")) from None
    with hub.unit() as s:
        audit(s, hub, who.name, "technician_set", f"technician:{tech_id}", name=name)
    return tech_id


def remove_technician(hub: Hub, who: Who, tech_id: str) -> None:
    if not may_manage_technicians(who):
        raise ConsoleError(N_("只有全市的工作人员可以管理技术员"))
    try:
        hub.remove_technician(tech_id)
    except LookupError:
        raise ConsoleError(N_("没有这位技术员")) from None
    with hub.unit() as s:
        audit(s, hub, who.name, "technician_removed", f"technician:{tech_id}")


def technician_card(hub: Hub, who: Who, tech_id: str, path: Path) -> None:
    """A printable sheet with a technician's card (a 12-hour code, recorded as issued)."""
    if not may_manage_technicians(who):
        raise ConsoleError(N_("只有全市的工作人员可以管理技术员"))
    try:
        _print_card(hub, who, tech_id, CodeKind.TECH, path)
    except UnknownTechnician:
        raise ConsoleError(N_("没有这位技术员")) from None


def _print_card(hub: Hub, who: Who, holder: str, kind: CodeKind, path: Path) -> None:
    """Sign a card for ``holder``, record it as issued, lay it out on a sheet at ``path``, audit."""
    from ..cards import Card, technician_caption, write

    issued = hub.issue(holder, kind)
    caption = technician_caption(issued.expires_at) if kind is CodeKind.TECH else None
    card = (
        Card(issued.holder, issued.name, issued.code)
        if caption is None
        else Card(issued.holder, issued.name, issued.code, caption)
    )
    write([card], path)
    with hub.unit() as s:
        action = "technician_card" if kind is CodeKind.TECH else "card_printed"
        target = f"technician:{holder}" if kind is CodeKind.TECH else f"volunteer:{holder}"
        audit(s, hub, who.name, action, target, card_id=issued.card_id)


# --- volunteers -----------------------------------------------------------------------

SEARCH_ROWS = 50


def find_volunteers(hub: Hub, text: str) -> list[dict[str, Any]]:
    """Volunteers whose id starts with, or whose name holds, ``text`` (at most 50)."""
    text = text.strip()
    if not text:
        return []
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with hub.reading() as s:
        rows = s.scalars(
            select(Volunteer)
            .where(Volunteer.id.like(f"{like}%", escape="\\") | Volunteer.name.like(f"%{like}%", escape="\\"))
            .order_by(Volunteer.id)
            .limit(SEARCH_ROWS)
        )
        return [{"id": v.id, "name": v.name} for v in rows]


HISTORY_ROWS = 200


@dataclass(frozen=True)
class HistoryLine:
    at: int
    kind: str  # credit, redemption, reversal, settlement
    amount: int
    note: str | None
    item: str | None
    kiosk: str | None


def volunteer(hub: Hub, who: Who, volunteer_id: str) -> dict[str, Any] | None:
    """A volunteer as the console shows them to this person: balance, card PIN set or not,
    cards, and the newest ledger lines in their scope (hours everywhere; redemptions and
    refunds at the kiosks this person sees)."""
    kiosks = kiosks_in(hub, who.scope)
    with hub.reading() as s:
        person = s.get(Volunteer, volunteer_id)
        if person is None:
            return None
        balance = int(
            s.scalar(
                select(func.coalesce(func.sum(LEDGER.c.amount), 0)).where(
                    LEDGER.c.volunteer_id == volunteer_id
                )
            )
            or 0
        )
        pin = s.get(CardPin, volunteer_id)
        q = (
            select(
                LEDGER.c.at,
                LEDGER.c.kind,
                LEDGER.c.amount,
                LEDGER.c.note,
                LEDGER.c.item_name,
                KIOSKS.c.name,
                LEDGER.c.kiosk_id,
            )
            .select_from(LEDGER.outerjoin(KIOSKS, KIOSKS.c.id == LEDGER.c.kiosk_id))
            .where(LEDGER.c.volunteer_id == volunteer_id)
            .order_by(LEDGER.c.seq.desc())
            .limit(HISTORY_ROWS)
        )
        lines = [
            HistoryLine(at, kind, amount, note, item, kiosk_name or kiosk_id)
            for at, kind, amount, note, item, kiosk_name, kiosk_id in s.execute(q)
            if kiosk_id is None or who.scope.orgs is None or kiosk_id in kiosks
        ]
    return {
        "id": person.id,
        "name": person.name,
        "flagged": person.flagged,
        "balance": balance,
        "card_pin": pin is not None and pin.pin_hash is not None,
        "cards": [c for c in hub.cards_of(volunteer_id) if c["kind"] == "card"],
        "history": lines,
    }


def volunteer_card(hub: Hub, who: Who, volunteer_id: str, path: Path) -> None:
    """A printable sheet with a new card for this volunteer (five years; recorded as issued,
    so it can be revoked from their page). Their other cards keep working."""
    if who.role is Role.VIEWER:
        raise ConsoleError(N_("只读账号不能修改"))
    try:
        _print_card(hub, who, volunteer_id, CodeKind.CARD, path)
    except UnknownVolunteer:
        raise ConsoleError(N_("没有这位志愿者")) from None


def place_volunteer(hub: Hub, actor: str, volunteer_id: str, org: str | None) -> dict[str, Any]:
    """Put a volunteer on a community's (or street's) honour roll; ``org`` None: on none."""
    where = find_org(hub, org) if org else None
    if where is not None and where.level is Level.DISTRICT:
        raise ConsoleError(N_("志愿者属于一个社区或街道，不是区"))
    with hub.unit() as s:
        person = s.get(Volunteer, volunteer_id, with_for_update=True)
        if person is None:
            raise ConsoleError(N_("没有这位志愿者"))
        person.org_id = None if where is None else where.id
        audit(s, hub, actor, "volunteer_placed", f"volunteer:{volunteer_id}", org=org or "")
    hub.boards.clear()
    return {"volunteer_id": volunteer_id, "in": org or ""}


def rank_volunteer(hub: Hub, actor: str, volunteer_id: str, ranked: bool) -> dict[str, Any]:
    """A volunteer on the honour roll, or not (their choice): off, they are on no list and
    have no standing, at the kiosks' next sync."""
    with hub.unit() as s:
        person = s.get(Volunteer, volunteer_id, with_for_update=True)
        if person is None:
            raise ConsoleError(N_("没有这位志愿者"))
        person.ranked = ranked
        audit(s, hub, actor, "volunteer_ranked", f"volunteer:{volunteer_id}", ranked=ranked)
    hub.boards.clear()
    return {"volunteer_id": volunteer_id, "ranked": ranked}


def revoke_volunteer_card(hub: Hub, who: Who, volunteer_id: str, card_id: str) -> None:
    """Revoke one of this volunteer's recorded cards (kiosks refuse it from their next sync)."""
    if who.role is Role.VIEWER:
        raise ConsoleError(N_("只读账号不能修改"))
    if all(c["card_id"] != card_id for c in hub.cards_of(volunteer_id)):
        raise ConsoleError(N_("没有这张卡"))
    hub.revoke_card(card_id)
    with hub.unit() as s:
        audit(s, hub, who.name, "card_revoked", f"card:{card_id}", volunteer=volunteer_id)


def clear_volunteer_card_pin(hub: Hub, who: Who, volunteer_id: str) -> None:
    """The volunteer's card asks for no PIN (they forgot it; they set a new one at the hub)."""
    if who.role is Role.VIEWER:
        raise ConsoleError(N_("只读账号不能修改"))
    hub.clear_card_pin(volunteer_id)
    with hub.unit() as s:
        audit(s, hub, who.name, "card_pin_cleared", f"volunteer:{volunteer_id}")


# --- staff and sessions -----------------------------------------------------------------


def add_staff(hub: Hub, name: str, role: Role, org: str | None, password: str) -> dict[str, Any]:
    """``kiosk-hub staff add``: the command line acts for the whole city."""
    where = find_org(hub, org) if org else None
    save_staff(hub, "kiosk-hub", Scope(None), name, role, where.id if where else None, password)
    return {"staff": name.strip(), "role": role.value, "in": org or ""}


def may_manage_staff(who: Who) -> bool:
    """An admin adds and changes the accounts of their org and everything under it."""
    return who.role is Role.ADMIN


def save_staff(
    hub: Hub, actor: str, scope: Scope, name: str, role: Role, org_id: int | None, password: str
) -> None:
    """Add an account or change its role, place and password, within ``scope``: an account
    elsewhere is not touched (its name is taken). Its sessions end; it is unlocked."""
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise ConsoleError(N_("用户名应为 1 到 64 个字符，不含空格"))
    if len(password) < MIN_PASSWORD:
        raise ConsoleError(N_("密码至少 10 个字符"))
    if not scope.sees(org_id):
        raise ConsoleError(N_("只能为自己所辖的地方开设账号"))
    with hub.unit() as s:
        if org_id is not None and s.get(Org, org_id) is None:
            raise ConsoleError(N_("没有这个地方"))
        row = s.scalar(select(Staff).where(Staff.name == name))
        if row is not None and not scope.sees(row.org_id):
            raise ConsoleError(N_("这个用户名已被使用"))
        if row is None:
            row = Staff(name=name, created_at=int(hub.clock()), failures=0, active=True)
            s.add(row)
        row.password_hash = hash_pin(password)
        row.role = role.value
        row.org_id = org_id
        row.active, row.failures, row.locked_until = True, 0, None
        s.flush()
        s.execute(delete(StaffSession).where(StaffSession.staff_id == row.id))
        audit(s, hub, actor, "staff_set", f"staff:{name}", role=role.value, org_id=org_id)


def staff_in(hub: Hub, scope: Scope) -> list[dict[str, Any]]:
    """The accounts placed in ``scope`` (never a password hash)."""
    now = int(hub.clock())
    with hub.reading() as s:
        by_id = {o.id: o for o in org_nodes(s)}
        rows = s.scalars(select(Staff).order_by(Staff.active.desc(), Staff.name))
        return [
            {
                "id": r.id,
                "name": r.name,
                "role": r.role,
                "place": path(by_id, r.org_id),
                "active": r.active,
                "locked": locked(Attempt(r.failures, r.locked_until), now),
            }
            for r in rows
            if scope.sees(r.org_id)
        ]


def disable_staff(hub: Hub, who: Who, staff_id: int) -> None:
    """An account signs in no more; its sessions end at once. Not one's own."""
    if staff_id == who.staff_id:
        raise ConsoleError(N_("不能停用自己的账号"))
    with hub.unit() as s:
        row = s.get(Staff, staff_id, with_for_update=True)
        if row is None or not who.scope.sees(row.org_id):
            raise ConsoleError(N_("没有这个账号"))
        row.active = False
        s.execute(delete(StaffSession).where(StaffSession.staff_id == row.id))
        audit(s, hub, who.name, "staff_disabled", f"staff:{row.name}")


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


def thresholds(s: Session, default: int = LOW_STOCK) -> Thresholds:
    """The low-stock thresholds the street offices set (``rules.Thresholds``)."""
    lanes: dict[tuple[str, int], int] = {}
    kiosk_items: dict[tuple[str, str], int] = {}
    items: dict[str, int] = {}
    for t in s.scalars(select(StockThreshold)):
        if t.kiosk_id is not None and t.lane is not None:
            lanes[(t.kiosk_id, t.lane)] = t.at
        elif t.kiosk_id is not None and t.item is not None:
            kiosk_items[(t.kiosk_id, t.item)] = t.at
        elif t.item is not None:
            items[t.item] = t.at
    return Thresholds(default, lanes, kiosk_items, items)


def fleet(hub: Hub, scope: Scope, low_default: int = LOW_STOCK) -> list[FleetRow]:
    now = int(hub.clock())
    with hub.reading() as s:
        by_id = {o.id: o for o in org_nodes(s)}
        limits = thresholds(s, low_default)
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
            thresholds=limits,
        )
        for k, st in rows
        if scope.sees(k.org_id)
    ]
    return needs_visit_first(shown)


def threshold_rows(hub: Hub, who: Who) -> list[dict[str, Any]]:
    """The thresholds ``who`` sees: their kiosks', and every kiosk's items."""
    kiosks = kiosks_in(hub, who.scope)
    with hub.reading() as s:
        rows = s.scalars(select(StockThreshold).order_by(StockThreshold.item, StockThreshold.lane))
        return [
            {
                "id": t.id,
                "kiosk": kiosks.get(t.kiosk_id, "") if t.kiosk_id else "",
                "lane": t.lane,
                "item": t.item,
                "at": t.at,
            }
            for t in rows
            if t.kiosk_id is None or t.kiosk_id in kiosks
        ]


def set_threshold(
    hub: Hub, who: Who, kiosk_id: str | None, lane: int | None, item: str | None, at: int
) -> None:
    """Keep a threshold (one for the same lane or item replaces it), audited. A street's staff
    set them for their own kiosks; the whole fleet's are the city's."""
    if who.role is Role.VIEWER:
        raise ConsoleError(N_("只读账号不能修改"))
    item = item.strip() if item else None
    problem = threshold_problem(kiosk_id, lane, item or None, at)
    if problem:
        raise ConsoleError(problem)
    if kiosk_id is None and who.scope.orgs is not None:
        raise ConsoleError(N_("只有全市的工作人员可以设定所有自助机的提醒线"))
    if kiosk_id is not None and kiosk_id not in kiosks_in(hub, who.scope):
        raise ConsoleError(N_("没有这台自助机，或您无权查看"))
    with hub.unit() as s:
        same = select(StockThreshold).where(
            StockThreshold.kiosk_id.is_(None) if kiosk_id is None else StockThreshold.kiosk_id == kiosk_id,
            StockThreshold.lane.is_(None) if lane is None else StockThreshold.lane == lane,
            StockThreshold.item.is_(None) if item is None else StockThreshold.item == item,
        )
        for old in s.scalars(same):
            s.delete(old)
        s.add(StockThreshold(kiosk_id=kiosk_id, lane=lane, item=item, at=at, updated_at=int(hub.clock())))
        target = f"kiosk:{kiosk_id or '*'}:" + (f"lane:{lane}" if lane is not None else f"item:{item}")
        audit(s, hub, who.name, "threshold_set", target[:100], at=at)


def clear_threshold(hub: Hub, who: Who, threshold_id: int) -> None:
    if who.role is Role.VIEWER:
        raise ConsoleError(N_("只读账号不能修改"))
    seen = {t["id"] for t in threshold_rows(hub, who)}
    with hub.unit() as s:
        found = s.get(StockThreshold, threshold_id)
        if (
            found is None
            or threshold_id not in seen
            or (found.kiosk_id is None and who.scope.orgs is not None)
        ):
            raise ConsoleError(N_("没有这条提醒线"))
        s.delete(found)
        audit(s, hub, who.name, "threshold_cleared", f"threshold:{threshold_id}")


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


FOLD = """
INSERT INTO redemption_days (day, kiosk_id, item_name, items, spent)
SELECT day, kiosk, item, sum(items), sum(spent) FROM (
    SELECT (r.at + :offset) / 86400 AS day, coalesce(r.kiosk_id, '') AS kiosk,
           coalesce(r.item_name, '') AS item, coalesce(r.quantity, 1) AS items, -r.amount AS spent
    FROM ledger r WHERE r.kind = 'redemption' AND r.seq > :lo AND r.seq <= :hi
    UNION ALL
    SELECT (c.at + :offset) / 86400, coalesce(c.kiosk_id, ''), coalesce(c.item_name, ''),
           -coalesce(c.quantity, 1), c.amount
    FROM ledger v JOIN ledger c ON c.event_id = v.reverses
    WHERE v.kind = 'reversal' AND v.seq > :lo AND v.seq <= :hi AND c.kind = 'redemption'
) AS folded WHERE true
GROUP BY day, kiosk, item
ON CONFLICT (day, kiosk_id, item_name) DO UPDATE
SET items = redemption_days.items + excluded.items, spent = redemption_days.spent + excluded.spent
"""


def fold_redemptions(hub: Hub) -> int:
    """Add the ledger's entries since the last fold to ``redemption_days``; how many seqs.

    Under the ledger's write lock, so the newest sequence is final (entries become visible
    in sequence order, as kiosks' pulls need too) and two folds never count one entry
    twice. A reversal's seq is after its charge's: the charge is always folded first.
    """
    with hub.unit() as s:
        hub.lock_ledger(s)
        mark = s.get(ReportWatermark, 1, with_for_update=True)
        assert mark is not None, "the console's migration makes the watermark"
        top = int(s.scalar(select(func.coalesce(func.max(LedgerEntry.seq), 0))) or 0)
        if top <= mark.seq:
            return 0
        s.execute(text(FOLD), {"lo": mark.seq, "hi": top, "offset": CITY_DAY_OFFSET})
        folded, mark.seq = top - mark.seq, top
        return folded


def _city_days(f: RedemptionFilter) -> tuple[int, int]:
    """The filter's range as days of ``redemption_days`` (its bounds are city midnights)."""
    return (f.start + CITY_DAY_OFFSET) // 86400, (f.end + CITY_DAY_OFFSET) // 86400


def redemption_totals(hub: Hub, f: RedemptionFilter, scope_kiosks: dict[str, str] | None) -> dict[str, Any]:
    """Totals per item, per kiosk and per day (the city's days).

    From ``redemption_days`` (folded first: only what arrived since the last report), a few
    thousand rows for a month of a city; one volunteer's redemptions are summed from the
    ledger itself (an index finds them).
    """
    if f.volunteer_id:
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
    else:
        fold_redemptions(hub)
        days = RedemptionDay.__table__
        first, end = _city_days(f)
        q = select(days.c.day, days.c.kiosk_id, days.c.item_name, days.c["items"], days.c.spent).where(
            days.c.day >= first, days.c.day < end, days.c["items"] != 0
        )
        chosen = f.kiosk_ids
        if scope_kiosks is not None:
            chosen = frozenset(scope_kiosks) if chosen is None else chosen & frozenset(scope_kiosks)
        if chosen is not None:
            q = q.where(days.c.kiosk_id.in_(sorted(chosen)))
        if f.item:
            q = q.where(days.c.item_name == f.item)
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
        "by_day": sorted((k, n, v) for k, (n, v) in by_day.items() if n),
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


def count_redemptions(hub: Hub, f: RedemptionFilter, scope_kiosks: dict[str, str] | None) -> int:
    with hub.reading() as s:
        return int(
            s.scalar(select(func.count()).select_from(LEDGER).where(*_redemption_filter(f, scope_kiosks)))
            or 0
        )


COPY_CHUNK = 256 * 1024


def _escaped(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``rules.cell`` in SQL: text a spreadsheet would run gets a leading apostrophe."""
    return case((func.left(column, 1).in_(FORMULA_START), literal("'") + column), else_=column)


def redemption_csv_copy(
    hub: Hub, f: RedemptionFilter, scope_kiosks: dict[str, str] | None
) -> Iterator[bytes]:
    """PostgreSQL: the export's lines written by the database itself (``COPY … TO STDOUT``,
    streamed as it writes them), the same columns and escaping as ``reports.lines`` writes
    in Python. Ten times faster for a month of a city than formatting each row here."""
    city_time = func.to_char(
        func.timezone("UTC", func.to_timestamp(LEDGER.c.at + CITY_DAY_OFFSET)), "YYYY-MM-DD HH24:MI:SS"
    )
    q = (
        select(
            city_time,
            _escaped(LEDGER.c.volunteer_id),
            _escaped(VOLUNTEERS.c.name),
            _escaped(LEDGER.c.item_name),
            func.coalesce(LEDGER.c.quantity, 1),
            LEDGER.c.unit_price,
            -LEDGER.c.amount,
            _escaped(func.coalesce(KIOSKS.c.name, LEDGER.c.kiosk_id)),
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
    with hub.reading() as s:
        con = s.connection()
        compiled = q.compile(dialect=con.dialect, compile_kwargs={"render_postcompile": True})
        raw: Any = con.connection.dbapi_connection  # psycopg's own connection: its COPY
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params) as copy,
        ):
            buf = bytearray()
            for data in copy:  # PostgreSQL sends a row a message: pass them on a few hundred KB at once
                buf += data
                if len(buf) >= COPY_CHUNK:
                    yield bytes(buf)
                    buf.clear()
            yield bytes(buf)
