"""The console in a real browser: Debian's Chromium driven by Playwright, against a hub served
by uvicorn on loopback. Nothing may leave the machine: every request to another host is
aborted and counted. Set ``CONSOLE_SCREENSHOTS=docs/screenshots`` to refresh the README's
pictures of the console (they are looked at before they are committed).
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from hub.service import Hub
from tests.helpers import serving

from .test_console import NOV_10, PASSWORD, Office

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class Page:
    """A browser tab that may talk to the hub only; what it tried elsewhere is kept."""

    def __init__(self, chromium: Any, base: str, lang: str = "zh-CN") -> None:
        self.base = base
        self.context = chromium.new_context(
            locale=lang, viewport={"width": 1280, "height": 800}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.elsewhere: list[str] = []
        self.page.route("**/*", self._only_the_hub)

    def _only_the_hub(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        self.go("/console/fleet")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/console/fleet")

    def shot(self, name: str, tmp: Path) -> Path:
        folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"console-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def served(hub: Hub) -> Iterator[tuple[Office, str]]:
    office = Office(hub)
    with serving(office.api) as base:
        yield office, base


def test_sign_in_see_the_fleet_and_a_pushed_redemption_in_the_report_and_its_export(
    chromium: Any, served: tuple[Office, str], tmp_path: Path
) -> None:
    office, base = served
    added = office.hub.add_kiosk("牡丹一号")
    token, kiosk_id = added["token"], added["kiosk_id"]
    from hub.console import store

    store.place_kiosk(office.hub, kiosk_id, "浦东新区/花木街道")
    # the kiosk pushes two redemptions over HTTP, as it does after every visit
    events = [
        {
            "id": str(uuid.uuid4()),
            "kind": "redemption",
            "volunteer_id": vid,
            "amount": 20,
            "at": NOV_10,
            "item_id": 2,
            "item_name": "矿泉水",
            "unit_price": 20,
            "quantity": 1,
            "lane": 2,
        }
        for vid in ("V1", "V2")
    ]
    pushed = httpx.post(
        f"{base}/v1/sync/push",
        json={"protocol": 3, "events": events},
        headers={"authorization": f"Bearer {token}"},
    )
    assert pushed.status_code == 200 and all("refused" not in a for a in pushed.json()["acks"])

    # each kiosk reports its lanes after a push; one has a dispense in doubt and a jammed lane
    lanes = [
        {"lane": 1, "item": "抽纸", "stock": 8, "capacity": 10},
        {"lane": 2, "item": "矿泉水", "stock": 1, "capacity": 10},
        {"lane": 3, "item": "饼干", "stock": 6, "capacity": 10, "fault": "jam"},
    ]
    reports = {
        token: {"lanes": lanes, "in_doubt": 1, "queued_events": 2, "last_good_sync": NOV_10},
        office.tokens[office.huamu]: {"lanes": lanes[:2], "in_doubt": 0, "last_good_sync": NOV_10},
    }
    for bearer, report in reports.items():
        status = {"id": str(uuid.uuid4()), "kind": "status", "at": NOV_10 + 3000, "body": report}
        sent = httpx.post(
            f"{base}/v1/sync/push",
            json={"protocol": 3, "events": [status]},
            headers={"authorization": f"Bearer {bearer}"},
        )
        assert sent.status_code == 200
    tab = Page(chromium, base)
    tab.go("/console/redemptions")
    assert "/console/signin" in tab.page.url  # a stranger is sent to sign in
    tab.shot("signin", tmp_path)
    tab.page.fill("input[name=name]", "city")
    tab.page.fill("input[name=password]", "not the password")
    tab.page.click("button[type=submit]")
    assert tab.page.locator(".problem").inner_text() == "用户名或密码不正确"
    tab.sign_in("city")
    order = tab.page.locator("tr[data-kiosk] td:first-child").all_inner_texts()
    assert order == ["陆家嘴一号", "牡丹一号", "花木一号"]  # never connected; in doubt; fine
    assert tab.page.locator("tr[data-kiosk] .lane.fault").count() == 1
    tab.shot("fleet", tmp_path)
    office.hub.set_technician("T01", "刘师傅", "246801")
    tab.go("/console/kiosks")
    assert tab.page.locator("tr[data-technician=T01]").count() == 1
    tab.shot("kiosks", tmp_path)
    tab.go("/console/volunteers?q=赵")  # one found: their page opens
    assert "在 牡丹一号 兑换 矿泉水" in tab.page.inner_text("table.history")
    tab.shot("volunteers", tmp_path)

    tab.go("/console/redemptions?from=2026-11-01&to=2026-11-30")
    assert "共兑换 2 件，40 益币" in tab.page.locator(".totals").inner_text()
    assert tab.page.locator(".chart rect").count() == 1  # one day had redemptions: one bar of 30 days' room
    assert float(tab.page.locator(".chart rect").get_attribute("width")) < 30
    tab.shot("redemptions", tmp_path)
    with tab.page.expect_download() as download:
        tab.page.click("a.button[href*='.csv']")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r[3] for r in rows[1:]] == ["矿泉水", "矿泉水"]
    assert sum(int(r[6]) for r in rows[1:]) == 40
    assert sorted(r[2] for r in rows[1:]) == ['\'=HYPERLINK("x")', "赵小明"]

    tab.page.click("a.lang")
    assert "2 items, 40 益币" in tab.page.locator(".totals").inner_text()
    assert tab.page.input_value("input[name=to]") == "2026-11-30"  # the filters stay as they were
    assert tab.page.locator("header nav a[aria-current=page]").inner_text() == "Redemptions"
    tab.shot("redemptions-en", tmp_path)
    assert tab.elsewhere == []  # nothing left the machine: fonts, styles, all from the hub


def test_the_chinese_renders_in_the_shipped_font(chromium: Any, served: tuple[Office, str]) -> None:
    _, base = served
    tab = Page(chromium, base)
    tab.go("/console/signin")
    faces = tab.page.evaluate(
        "async () => (await document.fonts.load('16px \"TimeBank Sans\"', '时间银行管理台'))"
        ".map(f => f.status)"
    )
    assert faces == ["loaded"]  # the shipped face (or the same font installed) draws the Chinese
    assert tab.elsewhere == []


def test_upload_an_hours_file_with_a_bad_row_and_see_its_line(
    chromium: Any, served: tuple[Office, str], tmp_path: Path
) -> None:
    from .test_console import UPLOAD

    office, base = served
    hours = tmp_path / "平台导出.csv"
    hours.write_bytes(UPLOAD)
    tab = Page(chromium, base)
    tab.sign_in("huamu")
    tab.page.click("header nav >> text=时长导入")
    tab.page.set_input_files("input[type=file]", str(hours))
    tab.page.click("form[enctype] button[type=submit]")
    tab.page.wait_for_selector("section.report")
    assert "新入账 1 条，重复 0 条，未导入 1 条" in tab.page.locator("section.report .totals").inner_text()
    cells = tab.page.locator("table.refused tbody tr td").all_inner_texts()
    assert cells[0] == "3" and cells[1] == "服务时长：'30' 应大于 0、不超过 24"
    assert office.hub.balance("V7")["balance"] == 20
    tab.shot("hours", tmp_path)
    assert tab.elsewhere == []


def test_a_kiosk_that_stops_syncing_shows_an_alert_that_reaches_the_webhook(
    chromium: Any, hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from .test_console_alerts import Receiver

    with Receiver() as hook:
        monkeypatch.setenv("HUB_ALERT_WEBHOOK", hook.url)
        monkeypatch.setenv("HUB_ALERT_INTERVAL_S", "0.2")  # the server's loop, quick for the test
        office = Office(hub)
        now = [NOV_10 + 3600]
        hub.clock = lambda: float(now[0])  # type: ignore[method-assign]
        lanes = [{"lane": 1, "item": "抽纸", "stock": 8}]
        from .test_console_alerts import report

        for kiosk in office.tokens:  # both kiosks report, then one goes quiet for 31 minutes
            report(office, kiosk, now[0], lanes=lanes)
        now[0] += 31 * 60
        report(office, office.lujiazui, now[0], lanes=lanes)
        with serving(office.api) as base:  # its alert loop runs every 0.2 s
            tab = Page(chromium, base)
            tab.sign_in("city")
            tab.go("/console/alerts")
            deadline = time.monotonic() + 10
            while "花木一号：已 31 分钟没有联系中心" not in tab.page.inner_text("table.alerts"):
                assert time.monotonic() < deadline, tab.page.inner_text("main")
                time.sleep(0.3)
                tab.page.reload()
            tab.shot("alerts", tmp_path)
            tab.page.click("table.alerts button")
            assert "city 于" in tab.page.inner_text("table.alerts")
            assert tab.elsewhere == []
        texts = [b["text"] for b in hook.bodies]
        assert texts == ["【时间银行】花木一号：已 31 分钟没有联系中心"]


def test_a_viewer_cannot_change_a_price_and_a_price_changed_reaches_a_kiosk_at_its_next_sync(
    chromium: Any, served: tuple[Office, str], tmp_path: Path
) -> None:
    import dataclasses

    from kiosk.bootstrap import bootstrap
    from kiosk.config import demo_config
    from kiosk.sync import HubClient, Syncer

    office, base = served

    def stock(repo):  # type: ignore[no-untyped-def]
        item = repo.add_item("tech", "矿泉水", "Water", 20)
        repo.add_lane("tech", 1, item.id, 10, 10)

    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=("timebank-hub",))
    kiosk = bootstrap(config, seed=stock, clock=office.hub.clock)  # the hub's day, as in the field
    try:
        syncer = Syncer(kiosk.store, HubClient(base, office.tokens[office.huamu]))
        city = Page(chromium, base)
        city.sign_in("city")
        city.page.click("header nav >> text=商品与价格")
        city.page.fill("form[action='/console/catalogue'] input[name=name_zh]", "矿泉水")
        city.page.fill("form[action='/console/catalogue'] input[name=name_en]", "Water")
        city.page.fill("form[action='/console/catalogue'] input[name=price]", "20")
        city.page.fill("form[action='/console/catalogue'] input[name=donor]", "农夫山泉")
        city.page.click("form[action='/console/catalogue'] button[type=submit]")
        row = city.page.locator("tr[data-item]")
        assert row.count() == 1 and row.locator("input[name=price]").input_value() == "20"
        assert syncer.run_once().ok
        (water,) = kiosk.store.items()
        assert water.price == 20 and water.hub_id is not None  # the technician's 矿泉水 is now the hub's

        viewer = Page(chromium, base)
        viewer.sign_in("look")
        viewer.go("/console/catalogue")
        assert viewer.page.locator("tr[data-item] td.num").inner_text() == "20"
        assert viewer.page.locator("input[name=price]").count() == 0  # nothing to change on the page
        token = viewer.page.evaluate("() => document.querySelector('input[name=token]').value")
        forged = viewer.page.evaluate(
            """async ([id, token]) => (await fetch('/console/catalogue/' + id, {method: 'POST',
                body: new URLSearchParams({token, name_zh: '矿泉水', price: '1'})})).status""",
            [water.hub_id, token],
        )
        assert forged == 403  # and the hub refuses a form sent anyway

        row.locator("input[name=price]").fill("25")
        row.locator("button", has_text="保存").click()
        city.page.wait_for_url("**/console/catalogue")
        assert city.page.locator("tr[data-item] input[name=price]").input_value() == "25"
        assert kiosk.store.items()[0].price == 20  # until its next sync
        assert syncer.run_once().ok
        assert kiosk.store.items()[0].price == 25
        city.page.click("tr[data-item] td a")  # the item's price history
        assert city.page.locator("table.history td.num").all_inner_texts() == ["25", "20"]
        city.shot("catalogue", tmp_path)

        city.page.click("header nav >> text=捐赠")
        city.page.fill("form.donate input[name=quantity]", "200")
        city.page.select_option("form.donate select[name=place]", label="浦东新区 / 花木街道")
        city.page.fill("form.donate input[name=note]", "2026 年第四季度")
        city.page.click("form.donate button[type=submit]")
        city.page.wait_for_url("**/console/donors")
        assert city.page.locator(".problem").count() == 0, city.page.inner_text("main")
        kiosk.service.vend("V1", kiosk.store.items()[0], "visit")
        assert syncer.run_once().ok
        city.go("/console/donors")
        cells = city.page.locator("tr[data-donor] td").all_inner_texts()
        assert cells[:5] == ["农夫山泉", "矿泉水", "200", "1", "199"] and "花木一号 · 1" in cells[5]
        city.shot("donors", tmp_path)
        assert city.elsewhere == [] and viewer.elsewhere == []
    finally:
        kiosk.close()
