"""Card PINs in the store: pulled from the hub with their cursor, their lockouts kept by volunteer."""

from __future__ import annotations

import json

from kiosk.core.people import PinState, hash_pin
from kiosk.services.store import Store

HASH = hash_pin("135790")


def page(cursor: int, **fields: object) -> dict[str, object]:
    return {"cursor": cursor, "columns": ["id", "name", "balance"], "volunteers": [], **fields}


def test_a_page_sets_changes_and_clears_card_pins_and_keeps_a_lockout(store: Store) -> None:
    assert store.card_pin("V1") is None and store.card_pins_cursor() == 0
    store.apply_pull(page(7, card_pins=[["V1", HASH], ["V2", HASH]]))
    assert store.card_pin("V1") == (HASH, PinState()) and store.card_pins_cursor() == 7
    locked = PinState(0, 1_790_000_300.0, 1)
    store.save_card_pin_state("V1", locked)
    newer = hash_pin("246802")
    store.apply_pull(page(8, card_pins=[["V1", newer], ["V2", None]]))
    assert store.card_pin("V1") == (newer, locked)  # a new PIN does not lift a lockout in progress
    assert store.card_pin("V2") is None  # cleared at the hub
    assert store.card_pins_cursor() == 8


def test_a_page_from_a_hub_before_protocol_4_changes_no_card_pin(store: Store) -> None:
    store.apply_pull(page(7, card_pins=[["V1", HASH]]))
    store.apply_pull(page(9, card_pins=None))
    store.apply_pull(page(10))
    assert store.card_pin("V1") == (HASH, PinState())
    assert store.card_pins_cursor() == 7 and store.sync_cursor() == 10


def test_a_lockout_is_an_audit_line_without_the_pin(store: Store) -> None:
    store.set_card_pin("V1", HASH)
    store.save_card_pin_state("V1", PinState(1, 0.0, 0))  # a wrong try: no audit line
    assert [a.action for a in store.audit_log()] == ["lane_added"] * 3 + ["item_added"] * 2
    store.save_card_pin_state("V1", PinState(0, 1_790_000_300.0, 1), locked_for_s=300)
    line = store.audit_log(1)[0]
    assert (line.actor, line.action, line.target) == ("machine", "card_pin_locked", "volunteer:V1")
    assert json.loads(line.after or "") == {"lock_minutes": 5}
    (event,) = [e for e in store.pending_events() if e["body"]["action"] == "card_pin_locked"]
    assert HASH not in json.dumps(event) and "135790" not in json.dumps(event)
