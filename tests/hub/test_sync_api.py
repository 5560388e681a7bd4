"""The sync API speaks the shared contract: a malformed event is a 422 naming it, old events still go in."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.app import create_api
from hub.models import LedgerEntry
from hub.service import Hub
from protocol.sync import PROTOCOL_VERSION

JSON = {"Content-Type": "application/json"}
HOURS = b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,3,a,2026-11-01\n"


def redemption(**fields: Any) -> dict[str, Any]:
    event = {
        "id": str(uuid.uuid4()),
        "kind": "redemption",
        "volunteer_id": "V1",
        "amount": 15,
        "at": 1_790_000_000,
    }
    event.update(fields)
    return {k: v for k, v in event.items() if v is not None}


@pytest.fixture
def api(hub: Hub) -> tuple[TestClient, dict[str, str], str]:
    hub.import_hours(HOURS)
    added = hub.add_kiosk("驿站-1")
    return TestClient(create_api(hub)), {"Authorization": f"Bearer {added['token']}"}, added["kiosk_id"]


@pytest.mark.parametrize(
    ("event", "field", "kind"),
    [
        ({"amount": ...}, "amount", "missing"),
        ({"amount": "15"}, "amount", "int_type"),
        ({"amount": True}, "amount", "int_type"),
        ({"amount": 0}, "amount", "greater_than"),
        ({"amount": 1.5}, "amount", "int_type"),
        ({"id": "not-a-uuid"}, "id", "value_error"),
        ({"id": 12345}, "id", "string_type"),
        ({"volunteer_id": 1}, "volunteer_id", "string_type"),
        ({"item_nmae": "抽纸"}, "item_nmae", "extra_forbidden"),
        ({"quantity": 0}, "quantity", "greater_than_equal"),
    ],
)
def test_a_malformed_redemption_is_a_422_naming_the_field(
    api: tuple[TestClient, dict[str, str], str], hub: Hub, event: dict[str, Any], field: str, kind: str
) -> None:
    client, auth, _ = api
    good = redemption()
    bad = redemption(**{k: v for k, v in event.items() if v is not ...})
    if event.get(field) is ...:
        del bad[field]
    reply = client.post("/v1/sync/push", json={"events": [good, bad]}, headers=auth)
    assert reply.status_code == 422, reply.text
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "events", 1, "redemption", field] and error["type"] == kind
    assert hub.balance("V1")["balance"] == 30  # refused whole: the good event was not applied either


def test_an_unknown_kind_is_a_422_naming_the_event_and_the_kinds(
    api: tuple[TestClient, dict[str, str], str],
) -> None:
    client, auth, _ = api
    reply = client.post("/v1/sync/push", json={"events": [redemption(kind="gift")]}, headers=auth)
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "events", 0] and error["type"] == "union_tag_invalid"
    assert "'kind'" in error["msg"] and "'gift'" in error["msg"]
    no_kind = client.post("/v1/sync/push", json={"events": [redemption(kind=None)]}, headers=auth)
    assert no_kind.status_code == 422 and no_kind.json()["detail"][0]["type"] == "union_tag_not_found"


Api = tuple[TestClient, dict[str, str], str]


def test_a_newer_protocol_and_too_many_events_are_refused(api: Api) -> None:
    client, auth, _ = api
    newer = {"protocol": PROTOCOL_VERSION + 1, "events": [redemption()]}
    reply = client.post("/v1/sync/push", json=newer, headers=auth)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "protocol"]
    many = client.post("/v1/sync/push", json={"events": [redemption()] * 5001}, headers=auth)
    assert many.status_code == 422 and many.json()["detail"][0]["loc"] == ["body", "events"]


def test_an_old_redemption_without_items_is_still_accepted(
    api: tuple[TestClient, dict[str, str], str], hub: Hub
) -> None:
    client, auth, kiosk_id = api
    old = redemption()  # protocol 1: no version, no item, price, quantity, lane or kiosk
    reply = client.post("/v1/sync/push", json={"events": [old]}, headers=auth)
    assert reply.status_code == 200 and reply.json()["acks"][0]["duplicate"] is False
    with hub.unit() as s:
        entry = s.scalars(select(LedgerEntry).where(LedgerEntry.event_id == old["id"])).one()
        assert (entry.amount, entry.kiosk_id) == (-15, kiosk_id)
        assert [entry.item_id, entry.item_name, entry.unit_price, entry.quantity, entry.lane] == [None] * 5
    assert hub.balance("V1")["balance"] == 15


def test_a_redemption_keeps_what_a_report_needs(api: Api, hub: Hub) -> None:
    client, auth, kiosk_id = api
    sold = redemption(item_id=3, item_name="抽纸", unit_price=15, quantity=1, lane=2, kiosk_id=kiosk_id)
    other = redemption(amount=5, item_id=4, item_name="牙刷", unit_price=5, quantity=1, kiosk_id="k-2")
    reply = client.post("/v1/sync/push", json={"protocol": 2, "events": [sold, other]}, headers=auth)
    assert reply.status_code == 200, reply.text
    with hub.unit() as s:
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "redemption"))
        rows = {e.event_id: e for e in entries}
    entry = rows[sold["id"]]
    item = (entry.item_id, entry.item_name, entry.unit_price, entry.quantity, entry.lane)
    assert item == (3, "抽纸", 15, 1, 2)
    assert entry.kiosk_id == kiosk_id and entry.amount == -15
    assert rows[other["id"]].kiosk_id == kiosk_id  # the token says who pushed it, not the event


def test_the_openapi_shows_the_protocol_schemas(api: tuple[TestClient, dict[str, str], str]) -> None:
    client, _, _ = api
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("PushRequest", "PushReply", "PullPage", "RedemptionEvent", "ReversalEvent", "AuditEvent"):
        assert name in schemas
    assert schemas["RedemptionEvent"]["properties"]["amount"]["type"] == "integer"
    assert "item_name" in schemas["RedemptionEvent"]["properties"]
    push = spec["paths"]["/v1/sync/push"]["post"]
    assert push["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PushRequest")
    pull = spec["paths"]["/v1/sync/pull"]["get"]["responses"]["200"]["content"]["application/json"]
    assert pull["schema"]["$ref"].endswith("/PullPage")


def test_a_pull_from_past_the_hubs_last_sequence_is_refused(api: Api) -> None:
    client, auth, _ = api
    head = client.get("/v1/sync/pull", params={"cursor": 0}, headers=auth).json()["cursor"]
    assert head > 0
    assert client.get("/v1/sync/pull", params={"cursor": head}, headers=auth).json()["cursor"] == head
    ahead = client.get("/v1/sync/pull", params={"cursor": head + 1}, headers=auth)
    assert ahead.status_code == 409 and "past" in ahead.json()["detail"]
    huge = client.get("/v1/sync/pull", params={"cursor": 2**63}, headers=auth)
    assert huge.status_code == 422 and huge.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_pull_carries_card_pins_from_the_pins_cursor_it_names(api: Api, hub: Hub) -> None:
    client, auth, _ = api
    head = client.get("/v1/sync/pull", params={"cursor": 0}, headers=auth).json()["cursor"]
    hub.set_card_pin("V1", "135790")
    more_hours = b"record_id,volunteer_id,name,hours,activity,certified_on\nR2,V2,B,1,a,2026-11-01\n"
    hub.import_hours(more_hours)  # the ledger moves past the PIN's stamp
    page = client.get("/v1/sync/pull", params={"cursor": head + 1}, headers=auth).json()
    assert page["protocol"] == PROTOCOL_VERSION == 5 and page["card_pins"] == [] and page["catalogue"] == []
    asked = {"cursor": head + 1, "pins_cursor": 0}  # a kiosk that never stored card PINs
    caught_up = client.get("/v1/sync/pull", params=asked, headers=auth).json()
    ((volunteer, pin_hash),) = caught_up["card_pins"]
    assert volunteer == "V1" and pin_hash.startswith("scrypt$")
    bad = client.get("/v1/sync/pull", params={"cursor": 0, "pins_cursor": -1}, headers=auth)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "pins_cursor"]


EVENT_ID = "6f1c2f0e-1d2a-4c3b-9e4f-5a6b7c8d9e0f"
ODD_PUSHES = [
    # (an event as JSON text, the field the 422 names, its error type); item 9 of issue 9
    ('"volunteer_id": "V\\u0000"', ["redemption", "volunteer_id"], "string_pattern_mismatch"),
    ('"volunteer_id": "V\\t1"', ["redemption", "volunteer_id"], "string_pattern_mismatch"),
    ('"volunteer_id": "' + "V" * 65 + '"', ["redemption", "volunteer_id"], "string_too_long"),
    ('"volunteer_id": ["V1"]', ["redemption", "volunteer_id"], "string_type"),
    ('"volunteer_id": 12345', ["redemption", "volunteer_id"], "string_type"),
    ('"volunteer_id": "\\ud800"', ["redemption", "volunteer_id"], "string_unicode"),
    ('"amount": 2147483648', ["redemption", "amount"], "less_than_equal"),
    ('"amount": 9223372036854775808', ["redemption", "amount"], "less_than_equal"),
    ('"at": Infinity', ["redemption", "at"], "int_type"),
    ('"at": -Infinity', ["redemption", "at"], "int_type"),
    ('"at": NaN', ["redemption", "at"], "int_type"),
    ('"at": 1e400', ["redemption", "at"], "int_type"),
    ('"at": 1180591620717411303424', ["redemption", "at"], "less_than_equal"),
    ('"at": -1', ["redemption", "at"], "greater_than_equal"),
    ('"item_name": "抽\\u0000纸"', ["redemption", "item_name"], "string_pattern_mismatch"),
    ('"item_name": "\\udc80"', ["redemption", "item_name"], "string_unicode"),
    ('"kiosk_id": "k\\u0001"', ["redemption", "kiosk_id"], "string_pattern_mismatch"),
    ('"id": "6f1c2f0e-1d2a-4c3b-9e4f-5a6b7c8d9e0\\u0000"', ["redemption", "id"], "value_error"),
    ('"id": 12345', ["redemption", "id"], "string_type"),
]


@pytest.mark.parametrize(("fields", "loc", "kind"), ODD_PUSHES)
def test_an_odd_value_is_a_422_naming_its_field_on_every_database(
    api: Api, hub: Hub, fields: str, loc: list[str], kind: str
) -> None:
    client, auth, _ = api
    base = {"id": EVENT_ID, "kind": "redemption", "volunteer_id": "V1", "amount": 15, "at": 1_790_000_000}
    name = fields.split(":")[0].strip('"')
    good = json.dumps(redemption())
    bad = json.dumps({k: v for k, v in base.items() if k != name})[:-1] + ", " + fields + "}"
    reply = client.post("/v1/sync/push", content=f'{{"events": [{good}, {bad}]}}', headers=auth | JSON)
    assert reply.status_code == 422, reply.text
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "events", 1, *loc] and error["type"] == kind
    assert hub.balance("V1")["balance"] == 30  # refused whole: nothing applied


ODD_RECORDS = [
    # an audit entry is bounded (item 5 of issue 9), and so is what a newer kiosk adds to a body
    ({"before": {"note": "x" * 5000}}, ["audit", "body", "before"], "value_error"),
    ({"after": {"note": "\ud800"}}, ["audit", "body", "after"], "value_error"),
    ({"actor": "T" * 65}, ["audit", "body", "actor"], "string_too_long"),
    ({"action": "lane\u0000changed"}, ["audit", "body", "action"], "string_pattern_mismatch"),
    ({"target": ""}, ["audit", "body", "target"], "string_too_short"),
    ({"screenshot": "x" * 5000}, ["audit", "body"], "value_error"),
]


@pytest.mark.parametrize(("change", "loc", "kind"), ODD_RECORDS)
def test_an_oversize_or_odd_audit_entry_is_a_422_naming_its_field(
    api: Api, change: dict[str, Any], loc: list[str], kind: str
) -> None:
    client, auth, _ = api
    body = {"actor": "T1", "action": "lane_changed", "target": "lane:1", **change}
    event = {"id": EVENT_ID, "kind": "audit", "at": 1_790_000_000, "body": body}
    text = json.dumps({"events": [event]})  # ensure_ascii: a lone surrogate travels as \ud800
    reply = client.post("/v1/sync/push", content=text, headers=auth | JSON)
    assert reply.status_code == 422, reply.text
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "events", 0, *loc] and error["type"] == kind
    assert str(error.get("msg", "")) and "Infinity" not in reply.text


def test_a_status_report_with_a_value_json_cannot_carry_is_a_422(api: Api) -> None:
    client, auth, _ = api
    event = f'{{"id": "{EVENT_ID}", "kind": "status", "at": 1790000000, "body": {{"t": NaN}}}}'
    text = f'{{"events": [{event}]}}'
    reply = client.post("/v1/sync/push", content=text, headers=auth | JSON)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == [
        "body",
        "events",
        0,
        "status",
        "body",
    ]


def test_odd_ids_in_the_apps_requests_are_422s(hub: Hub, api: Api) -> None:
    client, _, _ = api
    auth = {"Authorization": f"Bearer {hub.add_kiosk('app', role='app')['token']}"}
    for path in ("/v1/volunteers/V%00/balance", "/v1/volunteers/" + "V" * 65 + "/balance"):
        reply = client.get(path, headers=auth)
        assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["path", "volunteer_id"]
    assert client.get("/v1/volunteers/V1/balance", headers=auth).json()["balance"] == 30
    for odd in ("V\u0000", "V" * 65, "\ud800"):
        reply = client.post("/v1/codes", content=json.dumps({"volunteer_id": odd}), headers=auth | JSON)
        assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "volunteer_id"]


def test_a_refusal_and_a_conflict_come_back_in_the_ack(api: Api, hub: Hub) -> None:
    client, auth, _ = api
    charge = redemption(id=EVENT_ID)
    respelt = '{"at": 1790000000, "amount": 15, "volunteer_id": "V1", "kind": "redemption", "id": "ID"}'
    events = [
        json.dumps(charge),
        respelt.replace("ID", EVENT_ID.upper()),
        json.dumps({**charge, "amount": 14}),
    ]
    events.append(json.dumps(redemption(volunteer_id="V404")))
    text = '{"events": [' + ", ".join(events) + "]}"
    reply = client.post("/v1/sync/push", content=text, headers=auth | JSON)
    assert reply.status_code == 200, reply.text
    acks = reply.json()["acks"]
    assert [(a["duplicate"], a.get("refused")) for a in acks] == [
        (False, None),
        (True, None),  # the same event, spelt another way
        (False, "conflict"),
        (False, "unknown_volunteer"),
    ]
    assert acks[0]["seq"] == acks[1]["seq"] > 0 and acks[2]["seq"] == acks[3]["seq"] == 0
    assert "refused" not in acks[0]  # an older kiosk reads the reply it always did
    assert hub.balance("V1")["balance"] == 15
