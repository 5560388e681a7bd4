"""The street office's console: orgs and scopes, staff sign-in, the fleet, redemption reports.

Pages are fetched over HTTP with a cookie jar as a browser would (``TestClient``); the
browser tests in ``tests/hub/test_console_browser.py`` drive the same pages in Chromium.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pydantic import TypeAdapter

from hub import sync
from hub.app import create_api
from hub.cli import main
from hub.console import rules, store
from hub.console.rules import Attempt, Level, OrgNode, Role
from hub.service import Hub
from protocol.codes import CodeKind
from protocol.sync import Event

HOURS = (
    "record_id,volunteer_id,name,hours,activity,certified_on\n"
    'R1,V1,赵小明,20,a,2026-11-01\nR2,V2,=HYPERLINK("x"),20,a,2026-11-01\n'
).encode()
NOV_10 = 1_794_286_800  # 2026-11-10 13:00 in the city (UTC+8)
PASSWORD = "a long enough password"
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


# --- rules ------------------------------------------------------------------------------


def test_an_org_sits_only_under_the_level_above_it() -> None:
    district = OrgNode(1, "浦东新区", Level.DISTRICT, None)
    street = OrgNode(2, "花木街道", Level.STREET, 1)
    assert rules.placement_problem(Level.DISTRICT, None) is None
    assert rules.placement_problem(Level.STREET, district) is None
    assert rules.placement_problem(Level.COMMUNITY, street) is None
    assert rules.placement_problem(Level.COMMUNITY, district) == "a community sits under a street"
    assert rules.placement_problem(Level.STREET, None) == "a street sits under a district"
    assert rules.placement_problem(Level.DISTRICT, street) is not None


def test_a_scope_is_the_org_and_everything_under_it() -> None:
    tree = [
        OrgNode(1, "浦东新区", Level.DISTRICT, None),
        OrgNode(2, "花木街道", Level.STREET, 1),
        OrgNode(3, "牡丹社区", Level.COMMUNITY, 2),
        OrgNode(4, "陆家嘴街道", Level.STREET, 1),
    ]
    assert rules.subtree(tree, 2) == {2, 3}
    assert rules.subtree(tree, 1) == {1, 2, 3, 4}
    street = rules.scope_of(2, tree)
    assert street.sees(3) and not street.sees(4) and not street.sees(None)
    assert rules.scope_of(None, tree).sees(None)  # the city's staff see unplaced kiosks too
    assert rules.find_by_path(tree, "浦东新区/花木街道/牡丹社区") == tree[2]
    assert rules.find_by_path(tree, "花木街道") is None  # a path starts at a district
    assert rules.path({o.id: o for o in tree}, 3) == "浦东新区 / 花木街道 / 牡丹社区"


def test_the_fifth_wrong_password_in_a_row_locks_the_account() -> None:
    attempt = Attempt(0, None)
    for _ in range(rules.MAX_FAILURES - 1):
        attempt = rules.after_failure(attempt, 1000)
        assert not rules.locked(attempt, 1000)
    attempt = rules.after_failure(attempt, 1000)
    assert rules.locked(attempt, 1000) and attempt.locked_until == 1000 + rules.LOCK_S
    assert not rules.locked(attempt, 1000 + rules.LOCK_S)


def test_the_kiosk_that_needs_a_visit_comes_first() -> None:
    now = 10_000
    fine = rules.fleet_row("a", "A", "", {"lanes": [{"lane": 1, "stock": 9}]}, now - 60, now)
    offline = rules.fleet_row("b", "B", "", {"lanes": [{"lane": 1, "stock": 9}]}, now - 3600, now)
    doubt = rules.fleet_row("c", "C", "", {"in_doubt": 1, "lanes": []}, now - 60, now)
    low = rules.fleet_row(
        "d", "D", "", {"lanes": [{"lane": 1, "stock": 1}, {"lane": 2, "fault": "jam"}]}, now - 60, now
    )
    assert not offline.online and fine.online
    assert low.low == 1 and low.faults == 1
    assert [r.kiosk_id for r in rules.needs_visit_first([fine, low, doubt, offline])] == ["b", "c", "d", "a"]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x"])
def test_a_cell_that_a_spreadsheet_would_run_is_escaped(text: str) -> None:
    assert rules.cell(text) == "'" + text
    assert rules.cell("赵小明") == "赵小明" and rules.cell(-5) == -5


# --- pages ------------------------------------------------------------------------------


class Office:
    """A hub with a district, two streets, a kiosk in each, staff, and a browser's cookie jar."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.clock = lambda: NOV_10 + 3600  # type: ignore[method-assign]
        store.add_org(hub, "浦东新区", Level.DISTRICT, None)
        for street in ("花木街道", "陆家嘴街道"):
            store.add_org(hub, street, Level.STREET, "浦东新区")
        added = {name: hub.add_kiosk(name) for name in ("花木一号", "陆家嘴一号")}
        self.tokens = {a["kiosk_id"]: a["token"] for a in added.values()}
        self.huamu, self.lujiazui = (added[name]["kiosk_id"] for name in ("花木一号", "陆家嘴一号"))
        store.place_kiosk(hub, self.huamu, "浦东新区/花木街道")
        store.place_kiosk(hub, self.lujiazui, "浦东新区/陆家嘴街道")
        store.add_staff(hub, "city", Role.ADMIN, None, PASSWORD)
        store.add_staff(hub, "huamu", Role.STAFF, "浦东新区/花木街道", PASSWORD)
        store.add_staff(hub, "look", Role.VIEWER, None, PASSWORD)
        hub.import_hours(HOURS)
        self.api = create_api(hub)

    def browser(self) -> TestClient:
        return TestClient(self.api, base_url="http://hub.test", headers={"origin": "http://hub.test"})

    def sign_in(self, name: str, password: str = PASSWORD, client: TestClient | None = None) -> TestClient:
        c = client or self.browser()
        page = c.get("/console/signin")
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        c.post(
            "/console/signin",
            data={"name": name, "password": password, "token": token[1]},
            follow_redirects=False,
        )
        return c

    def redeem(self, kiosk: str, volunteer: str, item: str, price: int, at: int = NOV_10) -> str:
        event_id = str(uuid.uuid4())
        raw = {
            "id": event_id,
            "kind": "redemption",
            "volunteer_id": volunteer,
            "amount": price,
            "at": at,
            "item_id": 1,
            "item_name": item,
            "unit_price": price,
            "quantity": 1,
            "lane": 1,
        }
        [ack] = sync.push(self.hub, kiosk, [EVENT.validate_python(raw)])
        assert ack.refused is None
        return event_id


@pytest.fixture
def office(hub: Hub) -> Office:
    return Office(hub)


def test_every_page_and_export_sends_a_stranger_to_sign_in(office: Office) -> None:
    c = office.browser()
    for path in (
        "/console",
        "/console/fleet",
        "/console/redemptions",
        "/console/redemptions.csv?from=2026-11-01",
    ):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/console/signin?back=")


def test_a_kiosk_token_opens_no_page(office: Office) -> None:
    token = office.hub.add_kiosk("k9")["token"]
    r = office.browser().get(
        "/console/fleet", headers={"authorization": f"Bearer {token}"}, follow_redirects=False
    )
    assert r.status_code == 303 and "signin" in r.headers["location"]


def test_signing_in_sets_a_strict_httponly_cookie_and_signing_out_ends_it(office: Office) -> None:
    c = office.browser()
    page = c.get("/console/signin")
    token = re.search(r'name="token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    r = c.post(
        "/console/signin", data={"name": "city", "password": PASSWORD, "token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/fleet"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    fleet = c.get("/console/fleet")
    assert fleet.status_code == 200 and "花木一号" in fleet.text and "city" in fleet.text
    csrf = re.search(r'name="token" value="([^"]+)"', fleet.text)[1]  # type: ignore[index]
    assert c.post("/console/signout", data={"token": csrf}, follow_redirects=False).status_code == 303
    assert c.get("/console/fleet", follow_redirects=False).status_code == 303


def test_a_form_without_its_token_or_from_another_site_is_refused(office: Office) -> None:
    c = office.sign_in("city")
    assert c.post("/console/signout", data={"token": "guess"}).status_code == 403
    evil = TestClient(
        office.api, base_url="http://hub.test", cookies=c.cookies, headers={"origin": "http://evil.test"}
    )
    token = re.search(r'name="token" value="([^"]+)"', c.get("/console/fleet").text)[1]  # type: ignore[index]
    assert evil.post("/console/signout", data={"token": token}).status_code == 403
    assert c.get("/console/fleet").status_code == 200  # still signed in


def test_a_wrong_password_says_so_and_the_fifth_locks_the_account(office: Office) -> None:
    c = office.browser()
    for _ in range(rules.MAX_FAILURES - 1):
        office.sign_in("city", "wrong password!", client=c)
    page = c.get("/console/signin")
    token = re.search(r'name="token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    r = c.post("/console/signin", data={"name": "city", "password": "wrong", "token": token})
    assert r.status_code == 401 and "账号已锁定" in r.text
    # locked: even the right password is refused for now, and the page says when to try again
    token = re.search(r'name="token" value="([^"]+)"', c.get("/console/signin").text)[1]  # type: ignore[index]
    r = c.post("/console/signin", data={"name": "city", "password": PASSWORD, "token": token})
    assert r.status_code == 401 and "账号已锁定" in r.text
    actions = [a["action"] for a in office.hub.audit_log()]
    assert "staff_locked" in actions


def test_an_unknown_name_and_a_wrong_password_read_the_same(office: Office) -> None:
    c = office.browser()
    answers = []
    for name in ("nobody", "city"):
        token = re.search(r'name="token" value="([^"]+)"', c.get("/console/signin").text)[1]  # type: ignore[index]
        r = c.post("/console/signin", data={"name": name, "password": "not it at all", "token": token})
        answers.append((r.status_code, re.search(r'class="problem"[^>]*>([^<]+)<', r.text)[1]))  # type: ignore[index]
    assert answers[0] == answers[1] == (401, "用户名或密码不正确")


def test_a_streets_staff_see_only_their_streets_kiosks_and_redemptions(office: Office) -> None:
    office.redeem(office.huamu, "V1", "矿泉水", 20)
    office.redeem(office.lujiazui, "V1", "抽纸", 15)
    street = office.sign_in("huamu")
    fleet = street.get("/console/fleet").text
    assert "花木一号" in fleet and "陆家嘴一号" not in fleet
    page = street.get("/console/redemptions?from=2026-11-01&to=2026-11-30").text
    assert "矿泉水" in page and "抽纸" not in page
    export = street.get("/console/redemptions.csv?from=2026-11-01&to=2026-11-30").content.decode("utf-8-sig")
    assert "矿泉水" in export and "抽纸" not in export
    # asking for the other street's kiosk by its id shows nothing of it
    other = street.get(f"/console/redemptions?kiosk={office.lujiazui}")
    assert other.status_code == 404 and "抽纸" not in other.text
    city = office.sign_in("city").get("/console/redemptions?from=2026-11-01&to=2026-11-30").text
    assert "矿泉水" in city and "抽纸" in city


def test_the_csv_export_opens_in_excel_with_the_chinese_and_totals_right(office: Office) -> None:
    for _ in range(3):
        office.redeem(office.huamu, "V1", "矿泉水", 20)
    office.redeem(office.huamu, "V2", "抽纸", 15)
    given_back = office.redeem(office.huamu, "V1", "饼干", 25)
    reversal = {
        "id": str(uuid.uuid4()),
        "kind": "reversal",
        "volunteer_id": "V1",
        "amount": 25,
        "at": NOV_10 + 60,
        "reverses": given_back,
    }
    sync.push(office.hub, office.huamu, [EVENT.validate_python(reversal)])
    office.redeem(office.huamu, "V1", "牛奶", 30, at=NOV_10 - 40 * 86400)  # in September: not in November
    c = office.sign_in("city")
    r = c.get("/console/redemptions.csv?from=2026-11-01&to=2026-11-30")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间", "志愿者编号", "志愿者", "物品"]
    body = rows[1:]
    assert sorted(row[3] for row in body) == ["抽纸", "矿泉水", "矿泉水", "矿泉水"]
    assert sum(int(row[6]) for row in body) == 3 * 20 + 15
    assert {row[2] for row in body} == {"赵小明", '\'=HYPERLINK("x")'}  # escaped, never a formula
    assert {row[7] for row in body} == {"花木一号"}
    page = c.get("/console/redemptions?from=2026-11-01&to=2026-11-30").text
    assert "共兑换 4 件，75 益币" in page
    book = c.get("/console/redemptions.xlsx?from=2026-11-01&to=2026-11-30")
    assert book.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][:4] == ["时间", "志愿者编号", "志愿者", "物品"] and len(cells) == 5
    assert sum(r[6] for r in cells[1:]) == 75 and '\'=HYPERLINK("x")' in {r[2] for r in cells[1:]}
    en = c.get("/console/redemptions?from=2026-11-01&to=2026-11-30&lang=en").text
    assert "4 items, 75 益币" in en


def test_a_bad_date_is_a_sentence_not_a_traceback(office: Office) -> None:
    c = office.sign_in("city")
    r = c.get("/console/redemptions?from=2026-13-01")
    assert r.status_code == 400 and "2026-11-01" in r.text and "Traceback" not in r.text
    r = c.get("/console/redemptions?from=2026-11-10&to=2026-11-01")
    assert r.status_code == 400 and "结束日期早于开始日期" in r.text


def test_the_fleet_shows_what_a_kiosk_reported_and_puts_the_one_that_needs_a_visit_first(
    office: Office,
) -> None:
    report = {
        "lanes": [
            {"lane": 1, "item": "矿泉水", "stock": 1, "capacity": 10},
            {"lane": 2, "item": "抽纸", "stock": 5, "fault": "jam"},
        ],
        "in_doubt": 1,
        "queued_events": 3,
        "last_good_sync": NOV_10,
    }
    status = {"id": str(uuid.uuid4()), "kind": "status", "at": NOV_10 + 3000, "body": report}
    sync.push(office.hub, office.huamu, [EVENT.validate_python(status)])
    page = office.sign_in("city").get("/console/fleet").text
    kiosks = re.findall(r'data-kiosk="([^"]+)"', page)
    assert kiosks == [office.lujiazui, office.huamu] or kiosks[0] == office.huamu
    assert "从未连接" in page  # the other kiosk never reported
    assert "矿泉水 1/10" in page and "缺货" in page and "故障" in page


def test_the_pages_say_nothing_secret(office: Office) -> None:
    token = office.hub.add_kiosk("k9")["token"]
    c = office.sign_in("city")
    for path in ("/console/fleet", "/console/redemptions", "/console/redemptions.csv"):
        text = c.get(path).text
        assert token not in text and "scrypt$" not in text and "PRIVATE KEY" not in text


# --- commands ---------------------------------------------------------------------------


def run(db_url: str, tmp_path: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    import contextlib
    import sys

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--db", db_url, "--key-file", str(tmp_path / "kek"), *args])
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def test_the_office_is_set_up_and_reported_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    assert run(db_url, tmp_path, "init")[0] == 0
    assert run(db_url, tmp_path, "org", "add", "浦东新区", "--level", "district")[0] == 0
    assert run(db_url, tmp_path, "org", "add", "花木街道", "--level", "street", "--in", "浦东新区")[0] == 0
    code, _, err = run(db_url, tmp_path, "org", "add", "牡丹社区", "--level", "community", "--in", "浦东新区")
    assert code == 2 and "a community sits under a street" in err
    code, out, _ = run(db_url, tmp_path, "kiosk", "add", "花木一号", "--in", "浦东新区/花木街道")
    assert code == 0
    kiosk = json.loads(out)["kiosk_id"]
    code, _, err = run(db_url, tmp_path, "kiosk", "add", "二号", "--in", "浦东新区/没有")
    assert code == 2 and "no org" in err
    tree = json.loads(run(db_url, tmp_path, "org", "list")[1])
    assert [(o["path"], o["kiosks"]) for o in tree] == [("浦东新区", 0), ("浦东新区/花木街道", 1)]
    code, out, _ = run(
        db_url,
        tmp_path,
        "staff",
        "add",
        "huamu",
        "--role",
        "staff",
        "--in",
        "浦东新区/花木街道",
        stdin=PASSWORD + "\n",
    )
    assert code == 0 and PASSWORD not in out
    code, _, err = run(db_url, tmp_path, "staff", "add", "x", "--role", "viewer", stdin="short\n")
    assert code == 2 and "at least 10" in err
    # a redemption pushed by the kiosk is in the report, in both formats
    from hub.db import open_engine
    from hub.kek import Kek

    engine = open_engine(db_url)
    try:
        hub = Hub(engine, kek=Kek.generate())
        hub.import_hours(HOURS)
        raw = {
            "id": str(uuid.uuid4()),
            "kind": "redemption",
            "volunteer_id": "V2",
            "amount": 20,
            "at": NOV_10,
            "item_name": "矿泉水",
            "unit_price": 20,
            "quantity": 1,
        }
        sync.push(hub, kiosk, [EVENT.validate_python(raw)])
    finally:
        engine.dispose()
    for fmt in ("csv", "xlsx"):
        out_file = tmp_path / f"r.{fmt}"
        code, out, _ = run(
            db_url,
            tmp_path,
            "report",
            "redemptions",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--in",
            "浦东新区/花木街道",
            "--format",
            fmt,
            "--out",
            str(out_file),
        )
        assert code == 0 and json.loads(out)["redemptions"] == 1
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(out_file.read_text("utf-8-sig"))))
        else:
            rows = [
                list(r) for r in load_workbook(out_file, read_only=True).active.iter_rows(values_only=True)
            ]
        assert rows[1][2:4] == ['\'=HYPERLINK("x")', "矿泉水"]
        assert int(rows[1][6]) == 20
    assert not list(tmp_path.glob("*.part"))


# --- hours import -----------------------------------------------------------------------

UPLOAD = (
    "record_id,volunteer_id,name,hours,activity,certified_on\n"
    "U1,V7,孙丽华,2,社区清扫,2026-11-02\n"
    "U2,V8,周建国,30,社区清扫,2026-11-02\n"
).encode()


def csrf_of(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def test_an_hours_file_uploaded_in_the_browser_imports_and_lists_each_refused_row(office: Office) -> None:
    c = office.sign_in("huamu")
    token = csrf_of(c.get("/console/hours").text)
    r = c.post(
        "/console/hours",
        data={"token": token, "rate": "10"},
        files={"file": ("hours.csv", UPLOAD, "text/csv")},
    )
    assert r.status_code == 200
    assert "新入账 1 条，重复 0 条，未导入 1 条" in r.text
    # line 3, and why, in the page's language (the command line keeps the importer's English)
    assert '<td class="num">3</td><td>服务时长：&#39;30&#39; 应大于 0、不超过 24</td>' in r.text
    assert office.hub.balance("V7")["balance"] == 20
    again = c.post(
        "/console/hours?lang=en", data={"token": token}, files={"file": ("hours.csv", UPLOAD, "text/csv")}
    )
    assert "hours: &#39;30&#39; must be more than 0 and at most 24" in again.text
    imported = [a for a in office.hub.audit_log() if a["action"] == "hours_imported"]
    assert [a["actor"] for a in imported] == ["staff:huamu", "staff:huamu"]


def test_an_excel_workbook_imports_as_its_csv_would(office: Office, tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["record_id", "volunteer_id", "name", "hours", "activity", "certified_on"])
    sheet.append(["X1", "V9", "吴芳", 1.5, "助老", dt.datetime(2026, 11, 3)])
    sheet.append([2, "V10", "郑强", 3, "助老", "2026-11-03"])  # a numeric record id, as Excel keeps it
    path = tmp_path / "hours.xlsx"
    book.save(path)
    c = office.sign_in("city")
    r = c.post(
        "/console/hours",
        data={"token": csrf_of(c.get("/console/hours").text)},
        files={"file": ("hours.xlsx", path.read_bytes(), "application/vnd.ms-excel")},
    )
    assert "新入账 2 条" in r.text, r.text
    assert office.hub.balance("V9")["balance"] == 15 and office.hub.balance("V10")["balance"] == 30


def test_a_broken_file_is_one_sentence_and_nothing_is_applied(office: Office) -> None:
    c = office.sign_in("city")
    token = csrf_of(c.get("/console/hours").text)
    r = c.post("/console/hours", data={"token": token}, files={"file": ("x.xlsx", b"PK\x03\x04broken", "x")})
    assert r.status_code == 400 and "这个文件无法导入" in r.text and "Traceback" not in r.text
    r = c.post(
        "/console/hours", data={"token": token, "rate": "ten"}, files={"file": ("h.csv", UPLOAD, "text/csv")}
    )
    assert r.status_code == 400 and "正整数" in r.text
    with pytest.raises(Exception, match="V7"):
        office.hub.balance("V7")


def test_a_viewer_changes_nothing(office: Office) -> None:
    c = office.sign_in("look")
    page = c.get("/console/hours").text
    assert "只读账号不能导入" in page and 'type="file"' not in page
    token = csrf_of(c.get("/console/fleet").text)  # the sign-out form's token
    r = c.post("/console/hours", data={"token": token}, files={"file": ("h.csv", UPLOAD, "text/csv")})
    assert r.status_code == 403 and "只读账号不能修改" in r.text
    with pytest.raises(Exception, match="V7"):
        office.hub.balance("V7")


# --- kiosks -----------------------------------------------------------------------------


def test_a_kiosk_registered_in_the_console_gets_a_token_shown_once_that_syncs(office: Office) -> None:
    c = office.sign_in("huamu")
    page = c.get("/console/kiosks").text
    places = re.findall(r'<option value="(\d+)">([^<]+)</option>', page)
    assert [p for _, p in places] == ["浦东新区 / 花木街道"]  # only where this person is responsible
    r = c.post("/console/kiosks", data={"token": csrf_of(page), "name": " 牡丹二号 ", "place": places[0][0]})
    token = re.search(r'<pre class="secret">([^<]+)</pre>', r.text)
    assert r.status_code == 200 and token is not None
    assert r.headers["cache-control"] == "no-store"
    kiosk = office.hub.client_for_token(token[1])
    assert kiosk is not None
    assert "牡丹二号" in c.get("/console/fleet").text
    assert token[1] not in c.get("/console/kiosks").text  # once
    [added] = [a for a in office.hub.audit_log() if a["action"] == "kiosk_added"]
    assert added["actor"] == "staff:huamu" and added["name"] == "牡丹二号"


def test_a_street_cannot_register_a_kiosk_in_another_street(office: Office) -> None:
    c = office.sign_in("huamu")
    token = csrf_of(c.get("/console/kiosks").text)
    other = next(o.id for o in store.orgs(office.hub) if o.name == "陆家嘴街道")
    r = c.post("/console/kiosks", data={"token": token, "name": "闯入", "place": str(other)})
    assert r.status_code == 400 and "只能在您负责的地区登记自助机" in r.text
    city = office.sign_in("city")
    r = city.post(
        "/console/kiosks",
        data={"token": csrf_of(city.get("/console/kiosks").text), "name": "闯入", "place": "999"},
    )
    assert r.status_code == 400  # no such place, even for the city
    assert "闯入" not in json.dumps(office.hub.kiosks(), ensure_ascii=False)


def test_retiring_a_kiosk_takes_its_name_and_stops_its_token(office: Office) -> None:
    c = office.sign_in("huamu")
    token = csrf_of(c.get("/console/kiosks").text)
    r = c.post(f"/console/kiosks/{office.huamu}/retire", data={"token": token, "confirm": "wrong"})
    assert r.status_code == 400 and office.hub.client_for_token(office.tokens[office.huamu]) == office.huamu
    r = c.post(f"/console/kiosks/{office.huamu}/retire", data={"token": token, "confirm": "花木一号"})
    assert r.status_code == 200 and "已停用" in r.text
    assert office.hub.client_for_token(office.tokens[office.huamu]) is None
    [revoked] = [a for a in office.hub.audit_log() if a["action"] == "token_revoked"]
    assert revoked["actor"] == "staff:huamu"
    # the other street's kiosk cannot be retired from here, even by its id
    r = c.post(f"/console/kiosks/{office.lujiazui}/retire", data={"token": token, "confirm": "陆家嘴一号"})
    assert (
        r.status_code == 404
        and office.hub.client_for_token(office.tokens[office.lujiazui]) == office.lujiazui
    )


def test_a_viewer_registers_and_retires_nothing(office: Office) -> None:
    c = office.sign_in("look")
    page = c.get("/console/kiosks").text
    assert 'action="/console/kiosks"' not in page and "retire" not in page
    token = csrf_of(page)
    r = c.post("/console/kiosks", data={"token": token, "name": "x", "place": "1"})
    assert r.status_code == 403
    r = c.post(f"/console/kiosks/{office.huamu}/retire", data={"token": token, "confirm": "花木一号"})
    assert r.status_code == 403 and office.hub.client_for_token(office.tokens[office.huamu]) == office.huamu


# --- technicians ------------------------------------------------------------------------


def test_the_citys_staff_add_a_technician_print_their_card_and_remove_them(office: Office) -> None:
    c = office.sign_in("city")
    token = csrf_of(c.get("/console/kiosks").text)
    r = c.post(
        "/console/technicians", data={"token": token, "tech_id": " T07 ", "name": "刘师傅", "pin": "2468013"}
    )
    assert r.status_code == 200 and 'data-technician="T07"' in r.text and "2468013" not in r.text
    bad = c.post("/console/technicians", data={"token": token, "tech_id": "T08", "name": "王", "pin": "12"})
    assert bad.status_code == 400 and "6 到 8 位数字" in bad.text and 'data-technician="T08"' not in bad.text
    card = c.post("/console/technicians/T07/card", data={"token": token})
    assert card.status_code == 200 and card.content.startswith(b"%PDF")
    assert [i["kind"] for i in office.hub.cards_of("T07")] == ["tech"]
    r = c.post("/console/technicians/T07/remove", data={"token": token})  # one tap is not enough
    assert r.status_code == 400 and "请输入技术员编号以确认停用" in r.text
    assert any(t["id"] == "T07" and t["active"] for t in store.technicians(office.hub))
    r = c.post("/console/technicians/T07/remove", data={"token": token, "confirm": " T07 "})
    assert r.status_code == 200 and "已停用" in r.text
    r = c.post("/console/technicians/T07/card", data={"token": token})
    assert r.status_code == 400 and "没有这位技术员" in r.text  # a removed technician gets no card
    actions = [a["action"] for a in office.hub.audit_log() if a["actor"] == "staff:city"]
    assert (
        actions.count("technician_set") == 1
        and "technician_card" in actions
        and "technician_removed" in actions
    )
    assert all("2468013" not in json.dumps(a, ensure_ascii=False) for a in office.hub.audit_log())


def test_a_streets_staff_and_a_viewer_do_not_manage_technicians(office: Office) -> None:
    for name, status in (("huamu", 400), ("look", 403)):
        c = office.sign_in(name)
        page = c.get("/console/kiosks").text
        assert 'action="/console/technicians"' not in page
        r = c.post(
            "/console/technicians",
            data={"token": csrf_of(page), "tech_id": "T09", "name": "x", "pin": "246801"},
        )
        assert r.status_code == status
    assert all(t["id"] != "T09" for t in store.technicians(office.hub))


# --- volunteers -------------------------------------------------------------------------


def test_a_volunteer_is_found_and_their_history_reads_in_words(office: Office) -> None:
    office.redeem(office.huamu, "V1", "矿泉水", 20)
    office.redeem(office.lujiazui, "V1", "抽纸", 15)
    c = office.sign_in("city")
    r = c.get("/console/volunteers?q=赵", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/volunteers/V1"  # one found: open it
    page = c.get("/console/volunteers/V1").text
    assert "余额 165 益币" in page  # 20 h × 10 − 20 − 15
    assert "服务时长入账：20 h · a · 2026-11-01" in page
    assert "在 花木一号 兑换 矿泉水" in page and "在 陆家嘴一号 兑换 抽纸" in page
    assert c.get("/console/volunteers?q=%25").text.count("/console/volunteers/V") == 0  # % is a character
    # a street's staff see the hours and their own kiosks' redemptions, not another street's
    street = office.sign_in("huamu").get("/console/volunteers/V1").text
    assert "在 花木一号 兑换 矿泉水" in street and "陆家嘴一号" not in street and "余额 165 益币" in street
    assert c.get("/console/volunteers/V404").status_code == 404


def test_a_lost_card_is_revoked_and_a_forgotten_card_pin_cleared_from_the_volunteers_page(
    office: Office,
) -> None:
    issued = office.hub.issue("V1", CodeKind.CARD)
    office.hub.set_card_pin("V1", "135790")
    c = office.sign_in("huamu")
    page = c.get("/console/volunteers/V1").text
    assert "志愿者卡已设密码" in page and f'data-card="{issued.card_id}"' in page and "135790" not in page
    token = csrf_of(page)
    r = c.post(f"/console/volunteers/V1/cards/{issued.card_id}/revoke", data={"token": token})
    assert r.status_code == 200 and "已挂失" in r.text
    assert issued.card_id in office.hub.revoked()
    assert c.post("/console/volunteers/V1/cards/nonsense/revoke", data={"token": token}).status_code == 404
    r = c.post("/console/volunteers/V1/card-pin/clear", data={"token": token})
    assert "志愿者卡未设密码" in r.text
    actions = [(a["actor"], a["action"]) for a in office.hub.audit_log()]
    assert ("staff:huamu", "card_revoked") in actions and ("staff:huamu", "card_pin_cleared") in actions
    viewer = office.sign_in("look")
    page = viewer.get("/console/volunteers/V1").text
    assert "挂失</button>" not in page and "清除卡密码" not in page and "打印一张志愿者卡" not in page
    r = viewer.post("/console/volunteers/V1/card-pin/clear", data={"token": csrf_of(page)})
    assert r.status_code == 403
    assert viewer.post("/console/volunteers/V1/card", data={"token": csrf_of(page)}).status_code == 403


def test_a_new_card_is_printed_from_the_volunteers_page_recorded_and_audited(office: Office) -> None:
    c = office.sign_in("huamu")
    page = c.get("/console/volunteers/V1").text
    assert "还没有印过卡" in page and "打印一张志愿者卡（PDF）" in page
    r = c.post("/console/volunteers/V1/card", data={"token": csrf_of(page)})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["content-disposition"] == 'attachment; filename="card-V1.pdf"'
    (card,) = office.hub.cards_of("V1")
    assert card["kind"] == "card" and not card["revoked"]
    assert f'data-card="{card["card_id"]}"' in c.get("/console/volunteers/V1").text  # revocable there
    audit = [(a["actor"], a["action"], a["target"]) for a in office.hub.audit_log()]
    assert ("staff:huamu", "card_printed", "volunteer:V1") in audit
    assert c.post("/console/volunteers/V404/card", data={"token": csrf_of(page)}).status_code == 404
    assert office.hub.cards_of("V1") == [card]


# --- staff accounts -----------------------------------------------------------------------


def test_an_admin_opens_an_account_in_their_area_which_signs_in_and_is_disabled(office: Office) -> None:
    store.add_staff(office.hub, "huamu-admin", Role.ADMIN, "浦东新区/花木街道", PASSWORD)
    admin = office.sign_in("huamu-admin")
    page = admin.get("/console/staff")
    assert page.status_code == 200 and 'data-staff="huamu"' in page.text
    assert 'data-staff="city"' not in page.text and 'data-staff="look"' not in page.text  # the city's own
    assert "password_hash" not in page.text and "scrypt" not in page.text
    token = csrf_of(page.text)
    places = {name: oid for oid, name in re.findall(r'<option value="(\d+)">([^<]+)</option>', page.text)}
    assert set(places) == {"浦东新区 / 花木街道"}
    new = {"token": token, "name": "mudan", "role": "staff", "place": places["浦东新区 / 花木街道"]}
    r = admin.post("/console/staff", data=new | {"password": "short"})
    assert r.status_code == 400 and "密码至少 10 个字符" in r.text
    r = admin.post("/console/staff", data=new | {"password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    assert office.sign_in("mudan").get("/console/fleet").status_code == 200
    # the city's accounts are not theirs to change, nor may they open one for the whole city
    r = admin.post("/console/staff", data=new | {"name": "city", "password": "taken over at last"})
    assert r.status_code == 400 and "这个用户名已被使用" in r.text
    r = admin.post("/console/staff", data=new | {"name": "x2", "place": "", "password": PASSWORD})
    assert r.status_code == 400 and "只能为自己所辖的地方开设账号" in r.text
    assert office.sign_in("city").get("/console/fleet").status_code == 200  # its password unchanged
    mudan = next(p["id"] for p in store.staff_in(office.hub, rules.Scope(None)) if p["name"] == "mudan")
    r = admin.post(f"/console/staff/{mudan}/disable", data={"token": token})
    assert r.status_code == 400 and "请输入用户名以确认停用" in r.text
    r = admin.post(f"/console/staff/{mudan}/disable", data={"token": token, "confirm": "mudan"})
    assert r.status_code == 200 and "已停用" in r.text
    signed_out = office.sign_in("mudan").get("/console/fleet", follow_redirects=False)
    assert signed_out.status_code == 303  # it signs in no more
    city_id = next(p["id"] for p in store.staff_in(office.hub, rules.Scope(None)) if p["name"] == "city")
    r = admin.post(f"/console/staff/{city_id}/disable", data={"token": token, "confirm": "city"})
    assert r.status_code == 404  # outside their area: not even named
    actions = [(a["actor"], a["action"], a["target"]) for a in office.hub.audit_log()]
    assert ("staff:huamu-admin", "staff_set", "staff:mudan") in actions
    assert ("staff:huamu-admin", "staff_disabled", "staff:mudan") in actions


def test_only_an_admin_manages_accounts(office: Office) -> None:
    for name in ("huamu", "look"):
        c = office.sign_in(name)
        fleet = c.get("/console/fleet").text
        assert 'href="/console/staff"' not in fleet
        assert c.get("/console/staff").status_code == 403
        data = {"token": csrf_of(fleet), "name": "x3", "role": "admin", "password": PASSWORD}
        assert c.post("/console/staff", data=data).status_code == 403
    assert all(p["name"] != "x3" for p in store.staff_in(office.hub, rules.Scope(None)))
    city = office.sign_in("city")
    page = city.get("/console/staff").text
    me = next(p["id"] for p in store.staff_in(office.hub, rules.Scope(None)) if p["name"] == "city")
    r = city.post(f"/console/staff/{me}/disable", data={"token": csrf_of(page), "confirm": "city"})
    assert r.status_code == 400 and "不能停用自己的账号" in r.text


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("record_id: is empty", "记录编号：是空的"),
        ("volunteer_id: 80 characters, at most 64", "志愿者编号：有 80 个字，最多 64 个"),
        (
            "volunteer_id: 'V 1' contains U+0020: an id has no spaces or control characters",
            "志愿者编号：编号里不能有空格或控制字符（U+0020）",
        ),
        ("name: contains the control character U+0007", "姓名：含有控制字符 U+0007"),
        (
            "hours: 'x' is not a number of hours (write 2 or 2.5)",
            "服务时长：'x' 不是小时数（应写成 2 或 2.5）",
        ),
        ("hours: '2.55' has more than one decimal", "服务时长：'2.55' 最多一位小数"),
        (
            "certified_on: '2026-13-01' is not a date (write 2026-11-01)",
            "认定日期：'2026-13-01' 不是日期（应写成 2026-11-01）",
        ),
        ("certified_on: '2099-01-01' is in the future", "认定日期：'2099-01-01' 还没到"),
        ("expected 6 columns, found 7", "应有 6 列，这一行有 7 列"),
        ("something the table does not know", "something the table does not know"),
    ],
)
def test_each_importer_reason_reads_in_chinese_on_a_chinese_page(english: str, chinese: str) -> None:
    from hub.console.words import reason

    assert reason(english, "zh") == chinese
    assert reason(english, "en") == english
