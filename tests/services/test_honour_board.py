"""The honour roll in the store: kept from a pull page with its stamp, unchanged by a page
without one, and read by the service once after each sync."""

from __future__ import annotations

from kiosk.services.store import Store

BOARD = {
    "stamp": "s1",
    "month": 202611,
    "community": "牡丹社区",
    "street": None,
    "community_month": [["赵**", 260]],
    "standings": [["V1", 260, 1]],
}


def page(cursor: int, **fields: object) -> dict[str, object]:
    return {"cursor": cursor, "columns": ["id", "name", "balance"], "volunteers": [], **fields}


def test_a_pages_board_is_kept_with_its_stamp_and_a_page_without_one_keeps_it(store: Store) -> None:
    assert store.honour_board() is None and store.honour_stamp() is None
    store.apply_pull(page(3, honour=BOARD))
    assert store.honour_board() == BOARD and store.honour_stamp() == "s1"
    store.apply_pull(page(4, honour=None))  # unchanged at the hub: none sent
    store.apply_pull(page(5))
    assert store.honour_board() == BOARD and store.honour_stamp() == "s1"
    newer = BOARD | {"stamp": "s2", "standings": []}
    store.apply_pull(page(6, honour=newer))
    assert store.honour_board() == newer and store.honour_stamp() == "s2"


def test_the_status_report_says_how_old_the_trust_list_is_and_may_get(store: Store) -> None:
    assert store.status_report()["trust_synced_at"] is None  # never synced its keys
    store.apply_pull(page(1, jwks={"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "kid": "k1"}]}))
    body = store.status_report(7 * 86400)
    assert body["trust_synced_at"] == int(store.clock()) and body["trust_max_age_s"] == 7 * 86400
