"""兑换券 at the hub: issued against the holder's 益币, checked by a partner once — and only
once however many desks check it at the same moment — with a clear reason otherwise."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient

from hub import vouchers
from hub.app import create_api
from hub.cli import main
from hub.service import Hub, UnknownVolunteer
from hub.vouchers import NotEnough, VoucherRefused
from protocol.codes import CodeKind

NOV_10 = 1_794_286_800  # 2026-11-10 13:00 in the city (UTC+8)
HOURS = "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,赵小明,24,助老,2026-11-01\n".encode()


@pytest.fixture
def park(hub: Hub) -> tuple[Hub, str]:
    hub.clock = lambda: NOV_10  # type: ignore[method-assign]
    hub.import_hours(HOURS)
    return hub, hub.add_kiosk("儿童公园", role="partner")["partner_id"]


def test_a_voucher_costs_its_value_and_is_accepted_once_then_said_where_and_when(
    park: tuple[Hub, str],
) -> None:
    hub, partner = park
    voucher_id, code = vouchers.issue(hub, "V1", "儿童公园一日游", 200, days=180)
    assert hub.balance("V1")["balance"] == 240 - 200
    first = vouchers.check(hub, code, partner)
    assert first.accepted and (first.voucher_id, first.item, first.value, first.holder) == (
        voucher_id,
        "儿童公园一日游",
        200,
        "V1",
    )
    hub.clock = lambda: NOV_10 + 3600  # type: ignore[method-assign]
    again = vouchers.check(hub, code, partner)
    assert not again.accepted and again.reason is VoucherRefused.ALREADY_USED
    assert again.sentence() == "already used at 儿童公园 on 2026-11-10 13:00"
    with pytest.raises(NotEnough):
        vouchers.issue(hub, "V1", "儿童公园一日游", 200)
    assert hub.balance("V1")["balance"] == 40  # nothing charged for the refused one
    with pytest.raises(UnknownVolunteer):
        vouchers.issue(hub, "V404", "儿童公园一日游", 1)
    for bad in ({"value": 0}, {"days": 400}, {"item": ""}):
        with pytest.raises(ValueError):
            vouchers.issue(hub, "V1", **({"item": "半日托管", "value": 10} | bad))  # type: ignore[arg-type]


def test_an_expired_forged_or_wrong_kind_of_code_is_refused_with_its_reason(park: tuple[Hub, str]) -> None:
    hub, partner = park
    _, code = vouchers.issue(hub, "V1", "暑期托管半天", 50, days=1)
    head, body, sig = code.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    assert vouchers.check(hub, forged, partner).reason is VoucherRefused.FORGED
    assert vouchers.check(hub, "not a code at all", partner).reason is VoucherRefused.FORGED
    volunteer_code = hub.issue("V1", CodeKind.CARD).code
    refused = vouchers.check(hub, volunteer_code, partner)
    assert refused.reason is VoucherRefused.NOT_A_VOUCHER and "volunteer's code" in refused.sentence()
    hub.clock = lambda: NOV_10 + 2 * 86400  # type: ignore[method-assign]
    late = vouchers.check(hub, code, partner)
    assert late.reason is VoucherRefused.EXPIRED and late.sentence() == "refused: expired on 2026-11-11 13:00"


def test_concurrent_checks_of_one_voucher_accept_exactly_one(park: tuple[Hub, str]) -> None:
    hub, partner = park
    _, code = vouchers.issue(hub, "V1", "儿童公园一日游", 200)
    desks = 8
    start = threading.Barrier(desks)
    answers: list[bool] = []
    lock = threading.Lock()

    def desk() -> None:
        start.wait()
        answer = vouchers.check(hub, code, partner)
        with lock:
            answers.append(answer.accepted)

    threads = [threading.Thread(target=desk) for _ in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [False] * (desks - 1) + [True]


def test_the_partner_endpoint_needs_a_partner_token_and_answers_once(park: tuple[Hub, str]) -> None:
    hub, _ = park
    token = hub.add_kiosk("少年宫", role="partner")["token"]
    kiosk_token = hub.add_kiosk("驿站-1")["token"]
    _, code = vouchers.issue(hub, "V1", "儿童公园一日游", 200)
    api = TestClient(create_api(hub))
    assert api.post("/v1/vouchers/redeem", json={"code": code}).status_code == 401
    wrong = api.post(
        "/v1/vouchers/redeem", json={"code": code}, headers={"authorization": f"Bearer {kiosk_token}"}
    )
    assert wrong.status_code == 401  # a kiosk's token is no partner's
    auth = {"authorization": f"Bearer {token}"}
    first = api.post("/v1/vouchers/redeem", json={"code": code}, headers=auth)
    assert first.status_code == 200 and first.json()["accepted"] is True and first.json()["value"] == 200
    second = api.post("/v1/vouchers/redeem", json={"code": code}, headers=auth)
    assert second.status_code == 409 and second.json()["reason"] == "already_used"
    assert second.json()["detail"].startswith("already used at 少年宫 on ")
    bad = api.post("/v1/vouchers/redeem", json={"code": "x.y.z"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["reason"] == "forged"
    assert api.post("/v1/vouchers/redeem", json={"code": 5}, headers=auth).status_code == 422


def test_the_command_line_adds_a_partner_issues_and_redeems(
    hub_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.db import open_engine
    from hub.kek import Kek

    engine = open_engine(hub_url)
    try:
        Hub(engine, kek=Kek.generate()).import_hours(HOURS)
    finally:
        engine.dispose()
    assert main(["--db", hub_url, "partner", "add", "儿童公园"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert set(added) == {"partner_id", "token"}
    assert (
        main(["--db", hub_url, "voucher", "issue", "V1", "--item", "儿童公园一日游", "--value", "200"]) == 0
    )
    issued = json.loads(capsys.readouterr().out)
    assert main(["--db", hub_url, "voucher", "redeem", issued["code"], "--partner", "儿童公园"]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] is True
    assert main(["--db", hub_url, "voucher", "redeem", issued["code"], "--partner", "儿童公园"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["reason"] == "already_used" and out["detail"].startswith("already used at 儿童公园 on ")
    assert main(["--db", hub_url, "voucher", "issue", "V1", "--item", "x", "--value", "999"]) == 1
    assert "V1 has 40 益币" in capsys.readouterr().err
    assert main(["--db", hub_url, "voucher", "redeem", "nonsense", "--partner", "没有"]) == 2
