"""Items and lanes: load them as core values, save what a decision changed.

Nothing here decides whether a change is allowed (the core's ``vend`` and ``catalog``
modules do); rows are written as the caller's frozen values say.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.catalog import Item, Lane
from .models import ItemRow, LaneRow


def _item(row: ItemRow) -> Item:
    return Item(row.id, row.name_zh, row.name_en, row.price, row.image)


def _lane(row: LaneRow) -> Lane:
    return Lane(row.number, row.item_id, row.capacity, row.stock, row.enabled, row.fault)


class CatalogueRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def item(self, item_id: int) -> Item | None:
        row = self.s.get(ItemRow, item_id)
        return None if row is None else _item(row)

    def lane(self, number: int) -> Lane | None:
        row = self.s.get(LaneRow, number)
        return None if row is None else _lane(row)

    def items(self) -> list[Item]:
        return [_item(r) for r in self.s.scalars(select(ItemRow).order_by(ItemRow.id))]

    def lanes(self) -> list[Lane]:
        return [_lane(r) for r in self.s.scalars(select(LaneRow).order_by(LaneRow.number))]

    def add_item(self, name_zh: str, name_en: str, price: int, image: str = "") -> Item:
        row = ItemRow(name_zh=name_zh, name_en=name_en, price=price, image=image)
        self.s.add(row)
        self.s.flush()
        return _item(row)

    def save_item(self, item: Item) -> None:
        row = self.s.get(ItemRow, item.id)
        if row is None:
            raise LookupError(f"no item {item.id}")
        row.name_zh, row.name_en, row.price, row.image = item.name_zh, item.name_en, item.price, item.image

    def add_lane(self, lane: Lane) -> None:
        self.s.add(
            LaneRow(
                number=lane.number,
                item_id=lane.item_id,
                capacity=lane.capacity,
                stock=lane.stock,
                enabled=lane.enabled,
                fault=lane.fault,
            )
        )

    def save_lane(self, lane: Lane) -> None:
        row = self.s.get(LaneRow, lane.number)
        if row is None:
            raise LookupError(f"no lane {lane.number}")
        row.item_id, row.capacity, row.stock = lane.item_id, lane.capacity, lane.stock
        row.enabled, row.fault = lane.enabled, lane.fault
