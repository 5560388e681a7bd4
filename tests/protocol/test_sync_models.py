"""The sync contract's models: strict where money and ids are, closed events, open bodies."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from protocol.sync import (
    PROTOCOL_VERSION,
    Event,
    PullPage,
    PushReply,
    PushRequest,
    RedemptionEvent,
    Refused,
    ReversalEvent,
    StatusEvent,
)

EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def redemption(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": "redemption",
        "volunteer_id": "V1",
        "amount": 15,
        "at": 1,
        **fields,
    }


def page(**fields: Any) -> dict[str, Any]:
    return {
        "cursor": 7,
        "more": False,
        "columns": ["id", "name", "balance"],
        "volunteers": [["V1", "赵小明", 35], ["V2", "", -5]],
        "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "abc"}]},
        "revoked": ["card-1"],
        "technicians": [{"id": "T01", "name": "刘师傅", "pin_hash": "scrypt$00$00"}],
        **fields,
    }


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[str | int, ...], str]]:
    return [(e["loc"], e["type"]) for e in exc.value.errors()]


def test_a_version_1_redemption_is_a_redemption_with_no_item() -> None:
    event = EVENT.validate_python(redemption())
    assert isinstance(event, RedemptionEvent) and event.amount == 15
    assert (event.item_id, event.item_name, event.unit_price, event.quantity, event.lane, event.kiosk_id) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"amount": True}, ("redemption", "amount"), "int_type"),
        ({"amount": "15"}, ("redemption", "amount"), "int_type"),
        ({"amount": -15}, ("redemption", "amount"), "greater_than"),
        ({"amount": 2**31}, ("redemption", "amount"), "less_than_equal"),
        ({"id": 7}, ("redemption", "id"), "string_type"),
        ({"volunteer_id": 1001}, ("redemption", "volunteer_id"), "string_type"),
        ({"volunteer_id": ""}, ("redemption", "volunteer_id"), "string_too_short"),
        ({"at": "1790000000"}, ("redemption", "at"), "int_type"),
        ({"unit_price": "15"}, ("redemption", "unit_price"), "int_type"),
        ({"kiosk_id": 3}, ("redemption", "kiosk_id"), "string_type"),
        ({"body": {}}, ("redemption", "body"), "extra_forbidden"),
    ],
)
def test_money_and_ids_are_strict(change: dict[str, Any], loc: tuple[str, ...], kind: str) -> None:
    with pytest.raises(ValidationError) as exc:
        EVENT.validate_python(redemption(**change))
    assert errors(exc) == [(loc, kind)]


def test_the_same_strictness_from_json_bytes() -> None:
    with pytest.raises(ValidationError) as exc:
        EVENT.validate_json(json.dumps(redemption(amount="15")))
    assert errors(exc) == [(("redemption", "amount"), "int_type")]


def test_an_event_id_is_a_uuid_written_one_way() -> None:
    raw = uuid.uuid4()
    assert EVENT.validate_python(redemption(id=raw.hex.upper())).id == str(raw)
    with pytest.raises(ValidationError):
        EVENT.validate_python(redemption(id="12345"))


@pytest.mark.parametrize(
    "bad",
    [
        {"id": str(uuid.uuid4()), "kind": "audit", "at": 1},  # no body
        {"id": str(uuid.uuid4()), "kind": "audit", "at": 1, "body": {"actor": "T1"}},  # half a record
        {"id": str(uuid.uuid4()), "kind": "status", "at": 1, "body": "stock"},
        {"id": str(uuid.uuid4()), "kind": "status", "at": 1, "body": {"lanes": [{"stock": 1}]}},
        {"id": str(uuid.uuid4()), "kind": "gift", "at": 1, "body": {}},
        {"id": str(uuid.uuid4()), "kind": "reversal", "volunteer_id": "V1", "amount": 5, "at": 1, "lane": 1},
    ],
)
def test_bad_records_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EVENT.validate_python(bad)


def test_a_status_body_keeps_what_a_newer_kiosk_adds() -> None:
    raw = {"id": str(uuid.uuid4()), "kind": "status", "at": 1, "body": {"lanes": [], "temperature_c": 4}}
    event = EVENT.validate_python(raw)
    assert isinstance(event, StatusEvent)
    assert event.body.model_dump(exclude_unset=True) == {"lanes": [], "temperature_c": 4}


def test_a_reversal_may_name_its_charge_and_an_ack_may_say_it_was_refused() -> None:
    charge = uuid.uuid4()
    raw = {"id": str(uuid.uuid4()), "kind": "reversal", "volunteer_id": "V1", "amount": 5, "at": 1}
    assert EVENT.validate_python(raw).reverses is None  # protocol 2: the hub refuses it, one by one
    named = EVENT.validate_python({**raw, "reverses": str(charge).upper()})
    assert isinstance(named, ReversalEvent) and named.reverses == str(charge)
    for bad in ("not-a-uuid", 7, ["x"]):
        with pytest.raises(ValidationError):
            EVENT.validate_python({**raw, "reverses": bad})
    older = PushReply.model_validate_json('{"acks": [{"id": "a", "seq": 4, "duplicate": false}]}')
    assert older.acks[0].refused is None  # a hub before protocol 3
    refused = PushReply.model_validate_json(
        '{"acks": [{"id": "a", "seq": 0, "duplicate": false, "refused": "a_reason_from_a_newer_hub"}]}'
    )
    assert refused.acks[0].refused == "a_reason_from_a_newer_hub"
    assert {r.value for r in Refused} >= {"unknown_volunteer", "conflict", "already_reversed"}


def test_an_audit_entry_is_bounded() -> None:
    def audit(**body: Any) -> dict[str, Any]:
        record = {"actor": "T1", "action": "lane_changed", "target": "lane:1", **body}
        return {"id": str(uuid.uuid4()), "kind": "audit", "at": 1, "body": record}

    assert EVENT.validate_python(audit(before={"stock": 2}, after={"note": "x" * 3900}))
    for bad in (
        {"before": {"note": "x" * 4000}},
        {"after": {"n": float("inf")}},
        {"actor": ""},
        {"action": "x" * 65},
        {"extra": "x" * 4000},
    ):
        with pytest.raises(ValidationError):
            EVENT.validate_python(audit(**bad))


def test_a_push_names_its_version_and_holds_at_most_5000_events() -> None:
    assert PushRequest.model_validate({"events": []}).protocol == 1  # a kiosk that names none
    assert PushRequest.model_validate({"protocol": PROTOCOL_VERSION, "events": []}).protocol == 5
    with pytest.raises(ValidationError):
        PushRequest.model_validate({"protocol": PROTOCOL_VERSION + 1, "events": []})
    with pytest.raises(ValidationError):
        PushRequest.model_validate({"events": [redemption()] * 5001})


def test_a_pull_page_is_rows_of_id_name_balance() -> None:
    parsed = PullPage.model_validate_json(json.dumps(page()))
    assert parsed.volunteers == [("V1", "赵小明", 35), ("V2", "", -5)]
    assert parsed.protocol == 1 and parsed.kiosk_id is None  # a version 1 hub sends neither
    assert parsed.technicians[0].pin_hash == "scrypt$00$00"
    assert parsed.card_pins is None  # a hub before protocol 4 knows of no card PINs


def test_a_pull_page_carries_card_pins_set_and_cleared() -> None:
    parsed = PullPage.model_validate_json(json.dumps(page(card_pins=[["V1", "scrypt$00$00"], ["V2", None]])))
    assert parsed.card_pins == [("V1", "scrypt$00$00"), ("V2", None)]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"columns": ["id", "balance", "name"]}, ("columns", 1)),
        ({"volunteers": [["V1", "赵小明", "35"]]}, ("volunteers", 0, 2)),
        ({"volunteers": [[1001, "赵小明", 35]]}, ("volunteers", 0, 0)),
        ({"volunteers": [["V1", 35]]}, ("volunteers", 0, 2)),
        ({"cursor": "7"}, ("cursor",)),
        ({"more": 1}, ("more",)),
        ({"jwks": []}, ("jwks",)),
        ({"technicians": [{"id": "T01", "name": "刘师傅"}]}, ("technicians", 0, "pin_hash")),
        ({"card_pins": [["V1", 135790]]}, ("card_pins", 0, 1)),
        ({"card_pins": [["", "scrypt$00$00"]]}, ("card_pins", 0, 0)),
        ({"card_pins": [["V1"]]}, ("card_pins", 0, 1)),
        ({"card_pins": {"V1": "scrypt$00$00"}}, ("card_pins",)),
    ],
)
def test_a_malformed_page_is_refused_naming_the_field(change: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        PullPage.model_validate_json(json.dumps(page(**change)))
    assert loc in [e[0] for e in errors(exc)]
