"""The fleet's catalogue from the hub's pull pages: names and prices the hub sets, lanes the kiosk's."""

from __future__ import annotations

import json

import pytest

from kiosk.core.catalog import Item
from kiosk.core.vend import HubItem, ManagedByHub, check_item_changes, hub_catalogue_changes
from kiosk.services.store import Store


def page(cursor: int, **fields: object) -> dict[str, object]:
    return {"cursor": cursor, "columns": ["id", "name", "balance"], "volunteers": [], **fields}


def entry(hub_id: int, name_zh: str, price: int, name_en: str = "") -> dict[str, object]:
    return {"id": hub_id, "name_zh": name_zh, "name_en": name_en, "price": price}


def test_the_rule_links_an_own_item_by_name_updates_a_linked_one_and_adds_the_rest() -> None:
    own = [
        Item(1, "抽纸", "Tissues", 15),
        Item(2, "矿泉水", "Water", 20),
        Item(3, "香皂", "Soap", 30, hub_id=9),
    ]
    saved, added = hub_catalogue_changes(
        own,
        [
            HubItem(7, "矿泉水", "Water", 25),
            HubItem(9, "洗手液", "Hand soap", 35, "/pictures/ab.png"),
            HubItem(11, "毛巾", "Towel", 40),
        ],
    )
    assert saved == [
        Item(2, "矿泉水", "Water", 25, hub_id=7),
        Item(3, "洗手液", "Hand soap", 35, "/pictures/ab.png", hub_id=9),
    ]
    assert added == [Item(0, "毛巾", "Towel", 40, hub_id=11)]
    # the same catalogue again changes nothing; without a picture, the kiosk's own stays
    again, none = hub_catalogue_changes(
        [*saved, own[0]], [HubItem(7, "矿泉水", "Water", 25), HubItem(9, "洗手液", "Hand soap", 35)]
    )
    assert again == [] and none == []


def test_a_technician_cannot_change_the_name_or_price_of_a_hub_item_but_its_picture() -> None:
    item = Item(2, "矿泉水", "Water", 25, hub_id=7)
    with pytest.raises(ManagedByHub, match="price"):
        check_item_changes({"price": 20}, item)
    check_item_changes({"price": 25, "image": "water.png"}, item)  # unchanged price, new picture
    check_item_changes({"price": 20}, Item(1, "抽纸", "Tissues", 15))  # the kiosk's own item


def test_a_page_brings_the_catalogue_and_the_lanes_keep_selling_it(store: Store) -> None:
    store.apply_pull(page(5, catalogue=[entry(7, "矿泉水", 25, "Water"), entry(8, "毛巾", 40, "Towel")]))
    by_name = {i.name_zh: i for i in store.items()}
    assert by_name["矿泉水"].price == 25 and by_name["矿泉水"].hub_id == 7
    assert by_name["毛巾"].price == 40 and by_name["毛巾"].hub_id == 8
    assert by_name["抽纸"].price == 15 and by_name["抽纸"].hub_id is None  # not the hub's: untouched
    water = next(o for o in store.offers() if o.item.name_zh == "矿泉水")
    assert water.item.price == 25 and water.lanes == (2, 3)  # the same item: its lanes kept
    changes = [(a.actor, a.action, json.loads(a.after or "{}")) for a in store.audit_log(2)]
    assert ("hub", "item_changed", {"price": 25, "hub_id": 7}) in changes
    assert ("hub", "item_added", {"name_zh": "毛巾", "name_en": "Towel", "price": 40, "hub_id": 8}) in changes
    pushed = [
        e["body"] for e in store.pending_events() if e["kind"] == "audit" and e["body"]["actor"] == "hub"
    ]
    assert len(pushed) == 2  # the hub hears which price each kiosk took, and when

    store.apply_pull(page(6, catalogue=[entry(7, "矿泉水", 30, "Water")]))
    assert {i.name_zh: i.price for i in store.items()}["矿泉水"] == 30
    assert {i.name_zh for i in store.items()} >= {"毛巾"}  # off sale at the hub: kept until remapped
    with pytest.raises(ManagedByHub):
        store.update_item("T01", by_name["矿泉水"].id, price=10)
    assert {i.name_zh: i.price for i in store.items()}["矿泉水"] == 30


def test_a_page_without_a_catalogue_or_with_an_empty_one_changes_no_item(store: Store) -> None:
    before = store.items()
    store.apply_pull(page(5))
    store.apply_pull(page(6, catalogue=None))
    store.apply_pull(page(7, catalogue=[]))
    assert store.items() == before
