"""The fleet's catalogue and its donors: facts and outcomes (one unit of work each).

The street office keeps items, names and prices once here; every kiosk gets them whole in
its pull pages (``CatalogueEntry``, protocol 5) and charges the new price from its next
sync. Every version of an item goes into ``catalogue_history`` in the same transaction as
the change, with who made it: the price history. Donations are stock a company gave; the
donors' report (``rules.donor_lines``) sets them against the redemptions of that
company's items, matched by every name the item has had (a redemption carries the item's
name as the kiosk showed it).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import CatalogueChange, CatalogueItem, Donation, Org, Picture, RedemptionDay
from ..service import Hub
from .rules import (
    MAX_ITEMS,
    CatalogueDraft,
    CatalogueValues,
    DonorLine,
    Role,
    catalogue_values,
    cell,
    donor_lines,
)
from .store import CITY_DAY_OFFSET, ConsoleError, Who, audit, fold_redemptions, kiosks_in
from .words import N_


@dataclass(frozen=True)
class ItemRow:
    id: int
    name_zh: str
    name_en: str
    price: int
    donor: str | None
    active: bool
    updated_at: int
    picture: str | None = None


@dataclass(frozen=True)
class PriceChange:
    at: int
    actor: str
    name_zh: str
    price: int
    active: bool


def may_manage_catalogue(who: Who) -> bool:
    """One catalogue for the whole fleet: only the city's own staff change it."""
    return who.scope.orgs is None and who.role is not Role.VIEWER


def _row(item: CatalogueItem) -> ItemRow:
    return ItemRow(
        item.id,
        item.name_zh,
        item.name_en,
        item.price,
        item.donor,
        item.active,
        item.updated_at,
        item.picture,
    )


def items(hub: Hub, active_only: bool = False) -> list[ItemRow]:
    with hub.reading() as s:
        q = select(CatalogueItem).order_by(CatalogueItem.active.desc(), CatalogueItem.price, CatalogueItem.id)
        if active_only:
            q = q.where(CatalogueItem.active.is_(True))
        return [_row(i) for i in s.scalars(q)]


def history(hub: Hub, item_id: int, limit: int = 20) -> list[PriceChange]:
    with hub.reading() as s:
        q = (
            select(CatalogueChange)
            .where(CatalogueChange.item_id == item_id)
            .order_by(CatalogueChange.seq.desc())
            .limit(limit)
        )
        return [PriceChange(c.at, c.actor, c.name_zh, c.price, c.active) for c in s.scalars(q)]


def _kept(s: Session, hub: Hub, item: CatalogueItem, actor: str) -> None:
    s.add(
        CatalogueChange(
            item_id=item.id,
            at=item.updated_at,
            actor=actor,
            name_zh=item.name_zh,
            name_en=item.name_en,
            price=item.price,
            donor=item.donor,
            active=item.active,
        )
    )


def _values(draft: CatalogueDraft) -> CatalogueValues:
    checked = catalogue_values(draft)
    if isinstance(checked, str):
        raise ConsoleError(checked)
    return checked


def _name_taken(s: Session, name_zh: str, other_than: int | None) -> bool:
    q = select(CatalogueItem.id).where(CatalogueItem.name_zh == name_zh)
    if other_than is not None:
        q = q.where(CatalogueItem.id != other_than)
    return s.scalar(q) is not None


def save_item(hub: Hub, actor: str, draft: CatalogueDraft, item_id: int | None = None) -> ItemRow:
    """Add an item (``item_id`` None) or change one; kept in the history, audited, in one unit.

    ``actor`` is who, as the audit trail names them (``staff:NAME`` from the console,
    ``cli`` from the command line); the caller checks they may.
    """
    values = _values(draft)
    now = int(hub.clock())
    with hub.unit() as s:
        if _name_taken(s, values.name_zh, item_id):
            raise ConsoleError(N_("已有同名商品"))
        if item_id is None:
            on_sale_now = s.scalar(
                select(func.count()).select_from(CatalogueItem).where(CatalogueItem.active.is_(True))
            )
            if (on_sale_now or 0) >= MAX_ITEMS:
                raise ConsoleError(N_("在售商品已达 1000 件，请先下架一些"))
            item = CatalogueItem(active=True)
            s.add(item)
            before: dict[str, Any] | None = None
        else:
            found = s.get(CatalogueItem, item_id, with_for_update=True)
            if found is None:
                raise ConsoleError(N_("没有这件商品"))
            item = found
            before = {
                "name_zh": item.name_zh,
                "name_en": item.name_en,
                "price": item.price,
                "donor": item.donor,
            }
        item.name_zh, item.name_en, item.price, item.donor = (
            values.name_zh,
            values.name_en,
            values.price,
            values.donor,
        )
        item.updated_at = now
        s.flush()
        _kept(s, hub, item, actor)
        after = {"name_zh": item.name_zh, "name_en": item.name_en, "price": item.price, "donor": item.donor}
        action = "catalogue_added" if before is None else "catalogue_changed"
        audit(s, hub, actor, action, f"item:{item.id}", before=before, after=after)
        return _row(item)


def set_on_sale(hub: Hub, actor: str, item_id: int, on_sale: bool) -> ItemRow:
    """Take an item off sale (kiosks stop hearing of it: their technicians remap its lanes)
    or put it back."""
    with hub.unit() as s:
        item = s.get(CatalogueItem, item_id, with_for_update=True)
        if item is None:
            raise ConsoleError(N_("没有这件商品"))
        if item.active != on_sale:
            item.active, item.updated_at = on_sale, int(hub.clock())
            _kept(s, hub, item, actor)
            audit(s, hub, actor, "catalogue_on_sale" if on_sale else "catalogue_off_sale", f"item:{item.id}")
        return _row(item)


# --- pictures -------------------------------------------------------------------------

MAX_UPLOAD = 5 * 1024 * 1024
"""Bytes of an uploaded picture, at most (a phone's photo)."""
MAX_SOURCE_PX = 8000
"""Pixels a side of an upload, at most (a larger one is refused before it is decoded)."""
PICTURE_PX = 512
"""Pixels a side of the PNG kiosks get: sharp on a 1080 px portrait tile, small to send."""


def normalised_picture(data: bytes) -> bytes:
    """An upload as the PNG kiosks get: decoded by Pillow (PNG, JPEG or WebP only), at most
    512 px a side, RGBA, no metadata; ConsoleError for anything else."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_UPLOAD:
        raise ConsoleError(N_("图片不能超过 5 MB"))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in {"PNG", "JPEG", "WEBP"}:
                raise ConsoleError(N_("请上传 PNG、JPEG 或 WebP 图片"))
            if max(probe.size) > MAX_SOURCE_PX:
                raise ConsoleError(N_("图片太大，请用每边 8000 像素以内的图片"))
            probe.load()
            image = probe.convert("RGBA")
    except ConsoleError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ConsoleError(N_("请上传 PNG、JPEG 或 WebP 图片")) from None
    image.thumbnail((PICTURE_PX, PICTURE_PX))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def set_picture(hub: Hub, actor: str, item_id: int, data: bytes) -> str:
    """Give an item a picture (kept once by its SHA-256); its name, which pull pages carry."""
    png = normalised_picture(data)
    sha = hashlib.sha256(png).hexdigest()
    with hub.unit() as s:
        item = s.get(CatalogueItem, item_id, with_for_update=True)
        if item is None:
            raise ConsoleError(N_("没有这件商品"))
        if s.get(Picture, sha) is None:
            s.add(Picture(sha256=sha, data=png, created_at=int(hub.clock())))
        before, item.picture, item.updated_at = item.picture, sha, int(hub.clock())
        audit(s, hub, actor, "catalogue_picture", f"item:{item.id}", before=before, after=sha)
    return sha


def picture(hub: Hub, sha: str) -> bytes | None:
    """A picture's PNG by its name (None if the hub has none so named)."""
    with hub.reading() as s:
        found = s.get(Picture, sha)
        return None if found is None else bytes(found.data)


# --- donors ---------------------------------------------------------------------------

MAX_DONATION = 1_000_000
"""Items in one donation, at most (a typo past this is not a gift)."""


def record_donation(
    hub: Hub, who: Who, item_id: int, quantity: str, org_id: int | None, at: int, note: str = ""
) -> int:
    """Record stock a company gave for one org's kiosks (None: the city's, for city staff)."""
    if who.role is Role.VIEWER:
        raise ConsoleError(N_("只读账号不能修改"))
    text = quantity.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_DONATION:
        raise ConsoleError(N_("捐赠数量应是 1 到 1000000 之间的整数"))
    if not who.scope.sees(org_id):
        raise ConsoleError(N_("只能为自己所辖的社区登记捐赠"))
    note = note.strip()
    if len(note) > 200:
        raise ConsoleError(N_("备注最多 200 个字"))
    with hub.unit() as s:
        item = s.get(CatalogueItem, item_id)
        if item is None:
            raise ConsoleError(N_("没有这件商品"))
        if not item.donor:
            raise ConsoleError(N_("这件商品没有登记捐赠单位，请先在商品与价格页填写"))
        if org_id is not None and s.get(Org, org_id) is None:
            raise ConsoleError(N_("没有这个地方"))
        gift = Donation(item_id=item_id, quantity=int(text), org_id=org_id, at=at, note=note, actor=who.name)
        s.add(gift)
        s.flush()
        detail = {"item": item.name_zh, "donor": item.donor, "quantity": int(text), "org_id": org_id}
        audit(s, hub, who.name, "donation_recorded", f"donation:{gift.id}", **detail)
        return gift.id


def donor_report(hub: Hub, who: Who, start: int, end: int) -> list[DonorLine]:
    """Per donor and item: given and redeemed in [start, end) and where, left at ``end``.

    Within what ``who`` sees: donations for their orgs, redemptions at their kiosks.
    """
    fold_redemptions(hub)
    kiosk_names = kiosks_in(hub, who.scope)
    scope_kiosks = None if who.scope.orgs is None else kiosk_names
    first_day, end_day = (start + CITY_DAY_OFFSET) // 86400, (end + CITY_DAY_OFFSET) // 86400
    with hub.reading() as s:
        donated = list(
            s.execute(
                select(CatalogueItem.id, CatalogueItem.donor, CatalogueItem.name_zh)
                .where(CatalogueItem.donor.is_not(None))
                .order_by(CatalogueItem.id)
            )
        )
        ids = [int(i) for i, _, _ in donated]
        names: dict[str, int] = {}
        for item_id, name in s.execute(
            select(CatalogueChange.item_id, CatalogueChange.name_zh).where(CatalogueChange.item_id.in_(ids))
        ):
            names.setdefault(str(name), int(item_id))
        for item_id, _, name in donated:
            names[str(name)] = int(item_id)  # its name now wins over an older one of another item
        given: dict[int, tuple[int, int]] = {}
        for item_id, org_id, at, quantity in s.execute(
            select(Donation.item_id, Donation.org_id, Donation.at, Donation.quantity).where(
                Donation.item_id.in_(ids), Donation.at < end
            )
        ):
            if not who.scope.sees(org_id):
                continue
            now_, all_ = given.get(int(item_id), (0, 0))
            given[int(item_id)] = (now_ + (int(quantity) if at >= start else 0), all_ + int(quantity))
        days = RedemptionDay.__table__
        in_period = func.sum(case((days.c.day >= first_day, days.c["items"]), else_=0))
        q = (
            select(days.c.kiosk_id, days.c.item_name, in_period, func.sum(days.c["items"]))
            .where(days.c.item_name.in_(sorted(names)), days.c.day < end_day)
            .group_by(days.c.kiosk_id, days.c.item_name)
        )
        if scope_kiosks is not None:
            q = q.where(days.c.kiosk_id.in_(sorted(scope_kiosks)))
        redeemed: dict[int, dict[str, tuple[int, int]]] = {}
        for kiosk_id, item_name, n_now, n_all in s.execute(q):
            at_kiosk = redeemed.setdefault(names[str(item_name)], {})
            kiosk = kiosk_names.get(kiosk_id, kiosk_id or "?")
            now_, all_ = at_kiosk.get(kiosk, (0, 0))
            at_kiosk[kiosk] = (now_ + int(n_now or 0), all_ + int(n_all or 0))
    return donor_lines([(int(i), str(d), str(n)) for i, d, n in donated], given, redeemed)


def donations(hub: Hub, who: Who, limit: int = 50) -> list[dict[str, Any]]:
    """The newest donations ``who`` sees, for the page's list."""
    with hub.reading() as s:
        rows = s.execute(
            select(Donation, CatalogueItem.name_zh, CatalogueItem.donor)
            .join(CatalogueItem, CatalogueItem.id == Donation.item_id)
            .order_by(Donation.at.desc(), Donation.id.desc())
            .limit(limit * 4)
        ).all()
        orgs = {o.id: o.name for o in s.scalars(select(Org))}
    shown = [
        {
            "at": d.at,
            "item": name,
            "donor": donor,
            "quantity": d.quantity,
            "place": orgs.get(d.org_id, "") if d.org_id is not None else "",
            "note": d.note,
        }
        for d, name, donor in rows
        if who.scope.sees(d.org_id)
    ]
    return shown[:limit]


DONOR_HEADER = (N_("捐赠单位"), N_("物品"), N_("本期捐赠"), N_("本期兑换"), N_("剩余"), N_("兑换地点"))


def report_rows(lines: list[DonorLine], header: list[str]) -> Iterator[list[object]]:
    """The donors' report as spreadsheet rows: ``header`` (:data:`DONOR_HEADER` in the reader's
    language), then one row a line; text a spreadsheet could run is escaped."""
    yield list(header)
    for line in lines:
        where = "；".join(f"{k} {n}" for k, n in line.where)
        yield [cell(line.donor), cell(line.item), line.given, line.redeemed, line.left, cell(where)]
