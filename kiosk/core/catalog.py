"""Items, lanes and what is on offer.

An item is what a volunteer picks (a pack of tissues, 15 益币); a lane is a spiral in the
cabinet holding stock of one item. The catalog shows one offer per item, summed over the
enabled lanes that hold it. All values are frozen: the layers above pass them around
freely and never mutate them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Yibi = int
"""益币 are whole numbers; a price or a balance is always an ``int``."""


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    name_zh: str
    name_en: str
    price: Yibi
    image: str = ""
    hub_id: int | None = None
    """The hub catalogue's item this is (names and price are set there), or None: the kiosk's own."""

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True, slots=True)
class Lane:
    number: int
    item_id: int | None
    capacity: int
    stock: int
    enabled: bool = True
    fault: str | None = None
    """Why the machine disabled this lane (the board's flags), until a technician enables it."""

    @property
    def sellable(self) -> bool:
        return self.enabled and self.item_id is not None and self.stock > 0


@dataclass(frozen=True, slots=True)
class Offer:
    """One item as the volunteer sees it: its total stock over enabled lanes."""

    item: Item
    stock: int
    lanes: tuple[int, ...]

    @property
    def sold_out(self) -> bool:
        return self.stock <= 0


def build_offers(items: Iterable[Item], lanes: Iterable[Lane]) -> list[Offer]:
    """One offer per item that sits in at least one enabled lane, cheapest first."""
    by_item: dict[int, list[Lane]] = {}
    for lane in lanes:
        if lane.item_id is not None and lane.enabled:
            by_item.setdefault(lane.item_id, []).append(lane)
    offers = [
        Offer(
            item=item,
            stock=sum(max(lane.stock, 0) for lane in by_item[item.id]),
            lanes=tuple(sorted(lane.number for lane in by_item[item.id])),
        )
        for item in items
        if item.id in by_item
    ]
    offers.sort(key=lambda o: (o.item.price, o.item.id))
    return offers


def pick_lane(lanes: Iterable[Lane], item_id: int) -> Lane | None:
    """The lane to dispense ``item_id`` from: enabled, stocked, fullest first."""
    candidates = [lane for lane in lanes if lane.item_id == item_id and lane.sellable]
    if not candidates:
        return None
    return max(candidates, key=lambda lane: (lane.stock, -lane.number))
