"""Demo mode: a seeded store, a signing key and the codes a newcomer clicks to scan.

The items and prices come from real programmes (a pack of tissues 15 益币, a bottle of
water 20 益币); balances are hours × 10 益币. The signing key is made on first start and
kept beside the demo database; its public half is the kiosk's trust list. ``DemoCodes``
signs fresh codes on demand, like the volunteer app does every minute, and also makes
the ones that must be refused (expired, forged). The printed card (孙建国's) has a PIN,
:data:`DEMO_CARD_PIN`, which the kiosk asks for after the card's scan; phone codes ask none.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.codes import CodeKind, issue_code, public_jwk
from protocol.honour import Hours, stamped, standings, top

from .config import DEMO_ISSUER
from .core.messages import N_, say
from .core.people import hash_pin
from .services.store import Store

DEMO_KID = "demo-2026"
DEMO_PIN = "2468"
DEMO_CARD_PIN = "135790"
"""The PIN of the demo's printed card (孙建国's), as ``kiosk-hub card-pin set`` gives one."""

DEMO_ITEMS = [
    # name_zh, name_en, price, lane, capacity, stock
    ("抽纸", "Tissues", 15, 1, 10, 8),
    ("矿泉水", "Bottled water", 20, 2, 10, 10),
    ("牛奶", "Milk", 30, 3, 8, 6),
    ("饼干", "Biscuits", 25, 4, 8, 2),
    ("方便面", "Instant noodles", 35, 5, 8, 0),
    ("洗衣液", "Laundry liquid", 80, 6, 6, 5),
    ("雨伞", "Umbrella", 120, 7, 4, 3),
    ("毛巾", "Towel", 50, 8, 6, 6),
]

DEMO_VOLUNTEERS = [
    # id, name, certified hours
    ("V0001", "赵小明", 26),
    ("V0002", "钱秀英", 3.5),
    ("V0003", "孙建国", 15),
    ("V0004", "李思思", 1),
]
DEMO_TECH = ("T001", "王师傅")
DEMO_NEIGHBOURS = [
    # the rest of the demo community's honour roll: id, name, hours this month, before it
    ("V0101", "周桂兰", 18, 40),
    ("V0102", "吴志强", 12.5, 8),
    ("V0103", "郑美玲", 9, 31),
    ("V0104", "王建华", 7, 2),
    ("V0105", "冯淑珍", 6.5, 12),
    ("V0106", "陈国庆", 4, 0),
    ("V0107", "褚丽娟", 2.5, 20),
]
DEMO_STREET = [("V0201", "蒋文华", 22), ("V0202", "沈玉梅", 14), ("V0203", "韩立新", 11)]
"""Volunteers of the demo street's other communities, on its roll only."""
DEMO_PLACE = ("牡丹社区", "花木街道")


@dataclass(frozen=True)
class DemoCode:
    label: str  # a sentence of the catalogue: say(label, lang, pin=DEMO_PIN, card_pin=DEMO_CARD_PIN)
    make: str  # which DemoCodes method makes it
    subject: str

    def text(self, lang: str) -> str:
        return say(self.label, lang, pin=DEMO_PIN, card_pin=DEMO_CARD_PIN) if self.label else ""


DEMO_PANEL = [
    DemoCode(N_("赵小明 · 手机码"), "app", "V0001"),
    DemoCode(N_("钱秀英 · 手机码（余额少）"), "app", "V0002"),
    DemoCode(N_("孙建国 · 志愿者卡（密码 {card_pin}）"), "card", "V0003"),
    DemoCode(N_("过期的手机码"), "expired", "V0001"),
    DemoCode(N_("伪造的二维码"), "forged", "V0001"),
    DemoCode(N_("技术员码（PIN {pin}）"), "tech", DEMO_TECH[0]),
]


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return key


class DemoCodes:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self._forger = Ed25519PrivateKey.generate()

    def _sign(self, key: Ed25519PrivateKey, sub: str, kind: CodeKind, now: int, life: int | None) -> str:
        return issue_code(
            key,
            DEMO_KID,
            iss=DEMO_ISSUER,
            sub=sub,
            kind=kind,
            now=now,
            lifetime_s=life,
            jti=uuid.uuid4().hex,
        )

    def make(self, entry: DemoCode, now: float | None = None) -> str:
        t = int(time.time() if now is None else now)
        if entry.make == "app":
            return self._sign(self._key, entry.subject, CodeKind.APP, t, 60)
        if entry.make == "card":
            return self._sign(self._key, entry.subject, CodeKind.CARD, t - 86400, 3 * 365 * 86400)
        if entry.make == "expired":
            return self._sign(self._key, entry.subject, CodeKind.APP, t - 600, 60)
        if entry.make == "forged":
            return self._sign(self._forger, entry.subject, CodeKind.APP, t, 60)
        if entry.make == "tech":
            return self._sign(self._key, entry.subject, CodeKind.TECH, t, 8 * 3600)
        raise ValueError(entry.make)


def seed_catalog(store: Store) -> bool:
    """Stock an empty store with the sample catalog (items and lanes); False if it had items."""
    if store.items():
        return False
    for name_zh, name_en, price, lane, capacity, stock in DEMO_ITEMS:
        item = store.add_item("demo", name_zh, name_en, price)
        store.add_lane("demo", lane, item.id, capacity, stock)
    return True


def demo_board(now: float) -> dict[str, Any]:
    """The demo community's honour roll, ranked as a hub ranks it (``protocol.honour``):
    the demo volunteers' hours count as this month's."""
    month_rows = [Hours(vid, name, round(h * 10)) for vid, name, h in DEMO_VOLUNTEERS]
    month_rows += [Hours(vid, name, round(h * 10)) for vid, name, h, _ in DEMO_NEIGHBOURS]
    ever = [Hours(vid, name, round((h + before) * 10)) for vid, name, h, before in DEMO_NEIGHBOURS]
    ever += [r for r in month_rows if r.volunteer_id not in {n[0] for n in DEMO_NEIGHBOURS}]
    street = [Hours(vid, name, round(h * 10)) for vid, name, h in DEMO_STREET]
    day = time.localtime(now)
    body = {
        "month": day.tm_year * 100 + day.tm_mon,
        "community": DEMO_PLACE[0],
        "street": DEMO_PLACE[1],
        "community_month": top(month_rows),
        "community_all": top(ever),
        "street_month": top(month_rows + street),
        "street_all": top(ever + street),
        "standings": standings(month_rows),
    }
    return stamped(body).model_dump()


def seed(store: Store, key: Ed25519PrivateKey) -> None:
    """Fill an empty demo store; a store that has items already is left alone, but for the
    trust list and the demo card's PIN (a demo store from before card PINs gets it too)."""
    jwks = {"keys": [public_jwk(key, DEMO_KID)]}
    store.replace_trust(jwks, [])
    card = next(c.subject for c in DEMO_PANEL if c.make == "card")
    if store.card_pin(card) is None:
        store.set_card_pin(card, hash_pin(DEMO_CARD_PIN))
    store.set_honour_board(demo_board(store.clock()))  # this month's, whenever the demo starts
    if not seed_catalog(store):
        return
    store.upsert_volunteers((vid, name) for vid, name, _ in DEMO_VOLUNTEERS)
    for vid, _, hours in DEMO_VOLUNTEERS:
        store.credit(vid, round(hours * 10), note=f"{hours} 小时志愿服务 (demo)")
    store.add_technician(DEMO_TECH[0], DEMO_TECH[1], hash_pin(DEMO_PIN))
