"""Items and lanes: load them as core values, save what a decision changed (plain SQL, as the ledger).

Nothing here decides whether a change is allowed (the core's ``vend`` module does);
rows are written as the caller's frozen values say.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..core.catalog import Item, Lane

_ITEM = "SELECT id, name_zh, name_en, price, image, hub_id FROM items"
_LANE = "SELECT number, item_id, capacity, stock, enabled, fault FROM lanes"


def _lane(row: Any) -> Lane:
    number, item_id, capacity, stock, enabled, fault = row
    return Lane(number, item_id, capacity, stock, bool(enabled), fault)


class CatalogueRepository:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def item(self, item_id: int) -> Item | None:
        row = self.db.execute(f"{_ITEM} WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else Item(*row)

    def lane(self, number: int) -> Lane | None:
        row = self.db.execute(f"{_LANE} WHERE number = ?", (number,)).fetchone()
        return None if row is None else _lane(row)

    def items(self) -> list[Item]:
        return [Item(*r) for r in self.db.execute(f"{_ITEM} ORDER BY id")]

    def lanes(self) -> list[Lane]:
        return [_lane(r) for r in self.db.execute(f"{_LANE} ORDER BY number")]

    def add_item(
        self, name_zh: str, name_en: str, price: int, image: str = "", hub_id: int | None = None
    ) -> Item:
        cur = self.db.execute(
            "INSERT INTO items (name_zh, name_en, price, image, hub_id) VALUES (?, ?, ?, ?, ?)",
            (name_zh, name_en, price, image, hub_id),
        )
        return Item(int(cur.lastrowid or 0), name_zh, name_en, price, image, hub_id)

    def save_item(self, item: Item) -> None:
        done = self.db.execute(
            "UPDATE items SET name_zh = ?, name_en = ?, price = ?, image = ?, hub_id = ? WHERE id = ?",
            (item.name_zh, item.name_en, item.price, item.image, item.hub_id, item.id),
        )
        if done.rowcount != 1:
            raise LookupError(f"no item {item.id}")

    def add_lane(self, lane: Lane) -> None:
        self.db.execute(
            "INSERT INTO lanes (number, item_id, capacity, stock, enabled, fault) VALUES (?, ?, ?, ?, ?, ?)",
            (lane.number, lane.item_id, lane.capacity, lane.stock, lane.enabled, lane.fault),
        )

    def save_lane(self, lane: Lane) -> None:
        done = self.db.execute(
            "UPDATE lanes SET item_id = ?, capacity = ?, stock = ?, enabled = ?, fault = ? WHERE number = ?",
            (lane.item_id, lane.capacity, lane.stock, lane.enabled, lane.fault, lane.number),
        )
        if done.rowcount != 1:
            raise LookupError(f"no lane {lane.number}")
