"""Alerts: the rules, an alert's life (open, seen, closed), the webhook over loopback, the page."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import TypeAdapter

from hub import sync
from hub.console import alerts, store
from hub.console.alerts import AlertRules, Webhook
from hub.console.commands import CITY
from hub.console.rules import Scope, fleet_row
from hub.service import Hub
from protocol.sync import Event

from .test_console import NOV_10, Office, csrf_of

EVENT: TypeAdapter[Event] = TypeAdapter(Event)
RULES = AlertRules(low_stock_at=2, offline_after_min=30, doubt_grace_h=24)


def test_the_rules_find_what_a_person_should_see_to() -> None:
    now = NOV_10
    lanes = [
        {"lane": 1, "item": "抽纸", "stock": 2},
        {"lane": 2, "item": "矿泉水", "stock": 3},
        {"lane": 3, "item": "饼干", "stock": 5, "fault": "motor"},
        {"lane": 4, "item": "牛奶", "stock": 0, "enabled": False},
    ]
    fine = fleet_row("a", "一号", "", {"lanes": lanes[1:2]}, now - 60, now)
    busy = fleet_row("b", "二号", "", {"lanes": lanes, "in_doubt": 2}, now - 60, now)
    quiet = fleet_row("c", "三号", "", {"lanes": []}, now - 31 * 60, now)
    never = fleet_row("d", "四号", "", None, None, now)
    found = {c.key: c for c in alerts.conditions([fine, busy, quiet, never], [("V9", "钱")], RULES, now)}
    assert set(found) == {
        ("b", "low_stock", "1"),
        ("b", "lane_fault", "3"),
        ("b", "lane_disabled", "4"),
        ("b", "in_doubt", ""),
        ("c", "offline", ""),
        ("d", "offline", ""),
        (None, "overdraft", "V9"),
    }
    assert found[("b", "in_doubt", "")].grace_s == 24 * 3600  # shown once unsettled for a day
    assert (
        alerts.sentence("low_stock", found[("b", "low_stock", "1")].detail, "zh")
        == "二号：1 号货道（抽纸）只剩 2 件"
    )
    assert alerts.sentence("offline", found[("c", "offline", "")].detail, "en") == (
        "三号: no contact with the hub for 31 minutes"
    )
    assert alerts.sentence("offline", found[("d", "offline", "")].detail, "zh") == "四号：从未联系中心"


class Receiver:
    """A webhook on loopback: keeps every body it is sent; answers ``status``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook")

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


class Clock:
    def __init__(self, at: int) -> None:
        self.at = at

    def __call__(self) -> float:
        return float(self.at)


def report(office: Office, kiosk: str, at: int, **body: Any) -> None:
    status = {"id": str(uuid.uuid4()), "kind": "status", "at": at, "body": body}
    sync.push(office.hub, kiosk, [EVENT.validate_python(status)])


@pytest.fixture
def office(hub: Hub) -> Office:
    made = Office(hub)
    clock = Clock(NOV_10)
    hub.clock = clock  # type: ignore[method-assign]
    made.clock = clock  # type: ignore[attr-defined]
    for kiosk in (made.huamu, made.lujiazui):
        report(made, kiosk, NOV_10, lanes=[{"lane": 1, "item": "抽纸", "stock": 8}])
    return made


def test_an_alert_opens_is_sent_once_and_closes_when_its_cause_goes_away(
    office: Office, receiver: Receiver
) -> None:
    hook = Webhook(receiver.url)
    assert alerts.refresh(office.hub, RULES) == (0, 0)
    report(office, office.huamu, NOV_10, lanes=[{"lane": 1, "item": "抽纸", "stock": 1}])
    assert alerts.refresh(office.hub, RULES) == (1, 0)
    assert alerts.refresh(office.hub, RULES) == (0, 0)  # still low: the same alert, not a new one
    assert alerts.deliver(office.hub, hook) == 1
    assert alerts.deliver(office.hub, hook) == 0  # once
    [body] = receiver.bodies
    assert body["kind"] == "low_stock" and body["text"] == "【时间银行】花木一号：1 号货道（抽纸）只剩 1 件"
    report(office, office.huamu, NOV_10, lanes=[{"lane": 1, "item": "抽纸", "stock": 10}])  # refilled
    assert alerts.refresh(office.hub, RULES) == (0, 1)
    assert alerts.shown(office.hub, office_scope(), "zh")["open"] == []


def office_scope() -> Any:
    from hub.console.rules import Scope

    return Scope(None)


def test_a_kiosk_that_stops_syncing_is_alerted_after_the_set_minutes(
    office: Office, receiver: Receiver
) -> None:
    office.clock.at = NOV_10 + 29 * 60  # type: ignore[attr-defined]
    assert alerts.refresh(office.hub, RULES) == (0, 0)
    office.clock.at = NOV_10 + 31 * 60  # type: ignore[attr-defined]
    report(office, office.lujiazui, NOV_10 + 31 * 60, lanes=[{"lane": 1, "item": "抽纸", "stock": 8}])
    assert alerts.refresh(office.hub, RULES) == (1, 0)
    [alert] = alerts.shown(office.hub, office_scope(), "zh")["open"]
    assert alert["text"] == "花木一号：已 31 分钟没有联系中心"


def test_a_refused_webhook_is_tried_again_later_not_lost(office: Office, receiver: Receiver) -> None:
    hook = Webhook(receiver.url, "wecom")
    receiver.status = 500
    report(office, office.huamu, NOV_10, lanes=[{"lane": 2, "item": "饼干", "stock": 4, "fault": "jam"}])
    alerts.refresh(office.hub, RULES)
    assert alerts.deliver(office.hub, hook) == 0 and len(receiver.bodies) == 1
    assert alerts.deliver(office.hub, hook) == 0 and len(receiver.bodies) == 1  # not before its pause
    receiver.status = 200
    office.clock.at += alerts.retry_after(1)  # type: ignore[attr-defined]
    assert alerts.deliver(office.hub, hook) == 1
    assert receiver.bodies[-1] == {
        "msgtype": "text",
        "text": {"content": "【时间银行】花木一号：2 号货道（饼干）故障：jam"},
    }


def test_a_dispense_in_doubt_is_shown_only_once_unsettled_for_a_day(office: Office) -> None:
    report(office, office.huamu, NOV_10, lanes=[], in_doubt=1)
    alerts.refresh(office.hub, RULES)
    assert alerts.shown(office.hub, office_scope(), "zh")["open"] == []
    office.clock.at += 24 * 3600  # type: ignore[attr-defined]
    report(office, office.huamu, office.clock.at, lanes=[], in_doubt=1)  # type: ignore[attr-defined]
    report(office, office.lujiazui, office.clock.at, lanes=[])  # type: ignore[attr-defined]
    alerts.refresh(office.hub, RULES)
    [alert] = alerts.shown(office.hub, office_scope(), "zh")["open"]
    assert alert["kind"] == "in_doubt"


def test_the_page_shows_a_streets_alerts_and_records_who_saw_one(office: Office) -> None:
    report(office, office.huamu, NOV_10, lanes=[{"lane": 1, "item": "抽纸", "stock": 0}])
    report(office, office.lujiazui, NOV_10, lanes=[{"lane": 3, "item": "牛奶", "stock": 1}])
    alerts.refresh(office.hub, RULES)
    c = office.sign_in("huamu")
    page = c.get("/console/alerts").text
    assert "花木一号：1 号货道（抽纸）只剩 0 件" in page and "陆家嘴一号" not in page
    token = csrf_of(page)
    ids = {a["text"]: a["id"] for a in alerts.shown(office.hub, office_scope(), "zh")["open"]}
    other = ids["陆家嘴一号：3 号货道（牛奶）只剩 1 件"]
    assert c.post(f"/console/alerts/{other}/seen", data={"token": token}).status_code == 404
    mine = ids["花木一号：1 号货道（抽纸）只剩 0 件"]
    r = c.post(f"/console/alerts/{mine}/seen", data={"token": token})
    assert r.status_code == 200 and "huamu 于" in r.text
    assert [a["actor"] for a in office.hub.audit_log() if a["action"] == "alert_seen"] == ["staff:huamu"]


def test_bad_alert_settings_are_one_line(monkeypatch: pytest.MonkeyPatch, hub_url: str) -> None:
    from hub.cli import main

    monkeypatch.setenv("HUB_ALERT_WEBHOOK", "ftp://office")
    assert main(["--db", hub_url, "alerts"]) == 2
    monkeypatch.setenv("HUB_ALERT_WEBHOOK", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("HUB_ALERT_INTERVAL_S", "soon")
    assert main(["--db", hub_url, "serve", "--port", "1"]) == 2


def test_the_alerts_command_opens_them_and_sends_the_due_ones(
    hub_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.cli import main

    assert main(["--db", hub_url, "kiosk", "add", "一号"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("HUB_ALERT_WEBHOOK", receiver.url)
    assert main(["--db", hub_url, "alerts", "--deliver"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["opened"] == 1 and out["sent"] == 1 and out["open"][0]["text"] == "一号：从未联系中心"
    assert receiver.bodies[0]["kind"] == "offline"


# --- thresholds and the trust list ---------------------------------------------------------


def test_the_most_particular_threshold_wins() -> None:
    from hub.console.rules import Thresholds, threshold_problem

    limits = Thresholds(2, {("k1", 3): 0}, {("k1", "矿泉水"): 8}, {"矿泉水": 5, "抽纸": 4})
    assert limits.low_at("k1", 3, "矿泉水") == 0  # this kiosk's lane
    assert limits.low_at("k1", 1, "矿泉水") == 8  # this kiosk's item
    assert limits.low_at("k2", 1, "矿泉水") == 5  # the item everywhere
    assert limits.low_at("k2", 1, "饼干") == 2 and limits.low_at("k2", 1, None) == 2
    row = fleet_row(
        "k1",
        "一号",
        "",
        {"lanes": [{"lane": 1, "item": "矿泉水", "stock": 7}]},
        NOV_10,
        NOV_10 + 1,
        thresholds=limits,
    )
    assert row.lanes[0].low  # 7 ≤ 8 at this kiosk
    assert threshold_problem(None, 3, None, 2) == "货道提醒线要指定一台自助机"
    assert threshold_problem("k1", 3, "水", 2) == "请填写货道号或物品名称（二选一）"
    assert threshold_problem("k1", None, "水", 1001) == "提醒线应是 0 到 1000 之间的整数"
    assert threshold_problem("k1", None, "水", 5) is None


def test_a_trust_list_near_its_maximum_age_is_an_alert() -> None:
    week = 7 * 86400
    young = fleet_row(
        "a", "一号", "", {"trust_synced_at": NOV_10 - 5 * 86400, "trust_max_age_s": week}, NOV_10, NOV_10
    )
    old = fleet_row(
        "b", "二号", "", {"trust_synced_at": NOV_10 - 6 * 86400, "trust_max_age_s": week}, NOV_10, NOV_10
    )
    older_kiosk = fleet_row("c", "三号", "", {"lanes": []}, NOV_10, NOV_10)  # says nothing of it
    found = {c.key: c for c in alerts.conditions([young, old, older_kiosk], [], RULES, NOV_10)}
    assert set(found) == {("b", "trust_stale", "")}  # 6 of 7 days is past 80 %; 5 is not
    assert (
        alerts.sentence("trust_stale", found[("b", "trust_stale", "")].detail, "zh")
        == "二号：信任名单已 6 天未更新，满 7 天后将停止接受扫码"
    )
    assert AlertRules.from_env({"HUB_ALERT_TRUST_SHARE": "50"}).trust_share == 50


def test_thresholds_set_on_the_page_decide_the_low_stock_alerts_within_each_streets_kiosks(
    office: Office,
) -> None:
    report(
        office,
        office.huamu,
        NOV_10,
        lanes=[{"lane": 1, "item": "矿泉水", "stock": 4}, {"lane": 2, "item": "抽纸", "stock": 4}],
    )
    assert alerts.refresh(office.hub, RULES) == (0, 0)  # 4 is above the default 2
    street = office.sign_in("huamu")
    page = street.get("/console/alerts").text
    token = csrf_of(page)
    assert 'value="' + office.lujiazui + '"' not in page  # another street's kiosk is not offered
    ok = street.post(
        "/console/alerts/thresholds",
        data={"token": token, "kiosk": office.huamu, "item": "矿泉水", "at": "5"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    for data, sentence in (
        ({"kiosk": office.lujiazui, "item": "矿泉水", "at": "5"}, "没有这台自助机"),
        ({"kiosk": "", "item": "矿泉水", "at": "5"}, "只有全市的工作人员"),
        ({"kiosk": office.huamu, "lane": "2", "item": "抽纸", "at": "5"}, "二选一"),
        ({"kiosk": office.huamu, "lane": "x", "at": "5"}, "0 到 1000"),
    ):
        r = street.post("/console/alerts/thresholds", data={"token": token, **data})
        assert r.status_code == 400 and sentence in r.text, data
    look = office.sign_in("look")
    r = look.post(
        "/console/alerts/thresholds",
        data={
            "token": csrf_of(look.get("/console/alerts").text),
            "kiosk": office.huamu,
            "item": "抽纸",
            "at": "9",
        },
    )
    assert r.status_code == 403
    assert alerts.refresh(office.hub, RULES) == (1, 0)
    (opened,) = alerts.shown(office.hub, Scope(None), "zh")["open"]
    assert opened["text"] == "花木一号：1 号货道（矿泉水）只剩 4 件"
    fleet = street.get("/console/fleet").text
    assert fleet.count('class="lane low"') == 1  # the page marks what the alert says
    (kept,) = store.threshold_rows(office.hub, CITY)
    r = street.post(
        f"/console/alerts/thresholds/{kept['id']}/clear", data={"token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and alerts.refresh(office.hub, RULES) == (0, 1)
    actions = [(a["actor"], a["action"]) for a in office.hub.audit_log()]
    assert ("staff:huamu", "threshold_set") in actions and ("staff:huamu", "threshold_cleared") in actions


def test_thresholds_from_the_command_line(hub_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.cli import main

    assert main(["--db", hub_url, "kiosk", "add", "花木一号"]) == 0
    capsys.readouterr()
    assert main(["--db", hub_url, "threshold", "set", "--item", "矿泉水", "--at", "5"]) == 0
    assert main(["--db", hub_url, "threshold", "set", "--lane", "3", "--kiosk", "花木一号", "--at", "1"]) == 0
    capsys.readouterr()
    assert main(["--db", hub_url, "threshold", "set", "--lane", "3", "--at", "1"]) == 2
    assert "a kiosk" in capsys.readouterr().err  # a lane is one kiosk's
    assert main(["--db", hub_url, "threshold", "set", "--item", "水", "--kiosk", "没有", "--at", "1"]) == 2
    capsys.readouterr()
    assert main(["--db", hub_url, "threshold", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted((t["kiosk"], t["lane"], t["item"], t["at"]) for t in listed) == [
        ("", None, "矿泉水", 5),
        ("花木一号", 3, None, 1),
    ]
    assert main(["--db", hub_url, "threshold", "clear", str(listed[0]["id"])]) == 0
    assert main(["--db", hub_url, "threshold", "clear", "999"]) == 2
