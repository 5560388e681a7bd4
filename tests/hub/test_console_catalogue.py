"""The console's 商品与价格 and 捐赠 pages: one catalogue for the fleet, its price history,
and what each donor's stock came to."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hub import sync
from hub.console import catalogue, rules, store
from hub.console.rules import CatalogueDraft, CatalogueValues
from hub.models import HubAudit
from hub.service import Hub
from tests.hub.test_console import NOV_10, Office

CITY = store.Who(0, "city", rules.Role.ADMIN, None, rules.Scope(None), "")


def csrf(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None
    return found[1]


# --- rules ------------------------------------------------------------------------------


def test_an_item_is_named_and_priced_in_whole_yibi() -> None:
    assert rules.catalogue_values(CatalogueDraft(" 矿泉水 ", "Water", "20", "")) == CatalogueValues(
        "矿泉水", "Water", 20, None
    )
    assert rules.catalogue_values(CatalogueDraft("纸巾", "", "15", "维达 ")).donor == "维达"  # type: ignore[union-attr]
    for bad in ("0", "-5", "1.5", "二十", "", "100001", "２０"):
        assert (
            rules.catalogue_values(CatalogueDraft("矿泉水", "", bad)) == "价格应是 1 到 100000 之间的整数益币"
        )
    assert rules.catalogue_values(CatalogueDraft("  ", "", "20")) != CatalogueValues("", "", 20, None)
    assert rules.catalogue_values(CatalogueDraft("水\x07", "", "20")) == "商品名称里有无法显示的字符"


def test_a_donor_line_sets_what_was_redeemed_against_what_was_given() -> None:
    lines = rules.donor_lines(
        [(1, "农夫山泉", "矿泉水"), (2, "维达", "抽纸")],
        {1: (100, 300)},
        {1: {"花木一号": (30, 250), "陆家嘴一号": (5, 60)}, 2: {"花木一号": (0, 4)}},
    )
    water, tissues = lines  # by donor: 农夫山泉, 维达
    assert (water.given, water.redeemed, water.left) == (100, 35, 0)  # 310 redeemed of 300 given: none left
    assert water.where == (("花木一号", 30), ("陆家嘴一号", 5))
    assert (tissues.donor, tissues.given, tissues.redeemed, tissues.left, tissues.where) == (
        "维达",
        0,
        0,
        0,
        (),
    )


# --- pages ------------------------------------------------------------------------------


@pytest.fixture
def office(hub: Hub) -> Office:
    return Office(hub)


def test_city_staff_set_a_price_the_kiosks_pull_and_the_history_keeps_every_version(office: Office) -> None:
    c = office.sign_in("city")
    page = c.get("/console/catalogue")
    assert page.status_code == 200 and "还没有商品" in page.text
    token = csrf(page.text)
    r = c.post(
        "/console/catalogue",
        data={"token": token, "name_zh": "矿泉水", "name_en": "Water", "price": "20", "donor": "农夫山泉"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    (water,) = catalogue.items(office.hub)
    assert sync.pull(office.hub, 0).catalogue[0].model_dump() == {  # type: ignore[index]
        "id": water.id,
        "name_zh": "矿泉水",
        "name_en": "Water",
        "price": 20,
        "picture": None,
    }
    office.hub.clock = lambda: NOV_10 + 7200  # type: ignore[method-assign]
    data = {"token": token, "name_zh": "矿泉水", "name_en": "Water", "price": "25", "donor": "农夫山泉"}
    assert c.post(f"/console/catalogue/{water.id}", data=data, follow_redirects=False).status_code == 303
    assert sync.pull(office.hub, 0).catalogue[0].price == 25  # type: ignore[index]
    history = c.get(f"/console/catalogue/{water.id}").text
    assert re.findall(r'<td class="num">(\d+)</td>', history.split('id="history"')[1]) == ["25", "20"]
    with office.hub.unit() as s:
        audit = [(a.actor, a.action, json.loads(a.detail)) for a in s.scalars(select(HubAudit))]
    assert ("staff:city", "catalogue_changed") in [(a, b) for a, b, _ in audit]
    changed = next(d for a, b, d in audit if b == "catalogue_changed")
    assert changed["before"]["price"] == 20 and changed["after"]["price"] == 25

    off = c.post(
        f"/console/catalogue/{water.id}/on-sale", data={"token": token, "on": "0"}, follow_redirects=False
    )
    assert off.status_code == 303 and sync.pull(office.hub, 0).catalogue == []
    c.post(f"/console/catalogue/{water.id}/on-sale", data={"token": token, "on": "1"})
    assert len(sync.pull(office.hub, 0).catalogue or []) == 1


@pytest.mark.parametrize("name", ["look", "huamu"])
def test_a_viewer_or_a_streets_staff_cannot_change_a_price(office: Office, name: str) -> None:
    water = catalogue.save_item(office.hub, "city", CatalogueDraft("矿泉水", "Water", "20"))
    c = office.sign_in(name)
    page = c.get("/console/catalogue")
    assert page.status_code == 200 and "矿泉水" in page.text and 'name="price"' not in page.text
    data = {"token": csrf(page.text), "name_zh": "矿泉水", "price": "1"}
    r = c.post(f"/console/catalogue/{water.id}", data=data)
    assert r.status_code == 403
    r = c.post("/console/catalogue", data=data | {"name_zh": "免费水"})
    assert r.status_code == 403
    assert [(i.name_zh, i.price) for i in catalogue.items(office.hub)] == [("矿泉水", 20)]


def test_a_bad_price_or_a_taken_name_is_said_on_the_page_and_nothing_changes(office: Office) -> None:
    catalogue.save_item(office.hub, "city", CatalogueDraft("矿泉水", "Water", "20"))
    c = office.sign_in("city")
    token = csrf(c.get("/console/catalogue").text)
    r = c.post("/console/catalogue", data={"token": token, "name_zh": "毛巾", "price": "12.5"})
    assert r.status_code == 400 and "价格应是 1 到 100000 之间的整数益币" in r.text
    r = c.post("/console/catalogue?lang=en", data={"token": token, "name_zh": "矿泉水", "price": "5"})
    assert r.status_code == 400 and "An item with this name already exists" in r.text
    assert [(i.name_zh, i.price) for i in catalogue.items(office.hub)] == [("矿泉水", 20)]


def test_the_donors_report_counts_given_redeemed_where_and_left_and_exports_it(office: Office) -> None:
    water = catalogue.save_item(office.hub, "city", CatalogueDraft("矿泉水", "Water", "20", "农夫山泉"))
    catalogue.save_item(office.hub, "city", CatalogueDraft("抽纸", "Tissues", "15"))  # bought, not given
    c = office.sign_in("city")
    page = c.get("/console/donors")
    token = csrf(page.text)
    places = dict(
        (name, oid) for oid, name in re.findall(r'<option value="(\d+)">([^<]+)</option>', page.text)
    )
    huamu = places["浦东新区 / 花木街道"]
    r = c.post(
        "/console/donors",
        data={"token": token, "item": str(water.id), "quantity": "100", "place": huamu, "day": "2026-11-02"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for _ in range(3):
        office.redeem(office.huamu, "V1", "矿泉水", 20)
    office.redeem(office.lujiazui, "V1", "矿泉水", 20)
    office.redeem(office.huamu, "V1", "抽纸", 15)
    # renamed later: the redemptions under its old name still count
    catalogue.save_item(office.hub, "city", CatalogueDraft("瓶装水", "Water", "20", "农夫山泉"), water.id)
    office.redeem(office.huamu, "V1", "瓶装水", 20, at=NOV_10 + 60)

    report = c.get("/console/donors?from=2026-11-01&to=2026-11-30")
    row = re.search(r'<tr data-donor="农夫山泉">(.*?)</tr>', report.text, re.S)
    assert row is not None
    assert re.findall(r'<td class="num">(\d+)</td>', row[1]) == ["100", "5", "95"]
    assert "花木一号 · 4" in row[1] and "陆家嘴一号 · 1" in row[1]
    assert "抽纸" not in row[1]

    # a street's staff see their street's redemptions against the donation to it
    street = office.sign_in("huamu").get("/console/donors?from=2026-11-01&to=2026-11-30")
    row = re.search(r'<tr data-donor="农夫山泉">(.*?)</tr>', street.text, re.S)
    assert row is not None and re.findall(r'<td class="num">(\d+)</td>', row[1]) == ["100", "4", "96"]
    assert "陆家嘴一号" not in row[1]

    exported = c.get("/console/donors.csv?from=2026-11-01&to=2026-11-30")
    assert exported.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[0] == ["捐赠单位", "物品", "本期捐赠", "本期兑换", "剩余", "兑换地点"]
    assert lines[1][:5] == ["农夫山泉", "瓶装水", "100", "5", "95"]
    book = load_workbook(
        io.BytesIO(c.get("/console/donors.xlsx?from=2026-11-01&to=2026-11-30&lang=en").content)
    )
    sheet = list(book.worksheets[0].iter_rows(values_only=True))
    assert sheet[0][:3] == ("Donor", "Item", "Given in the period") and sheet[1][2:5] == (100, 5, 95)

    # before the donation's day, nothing was given in the period and nothing is left over
    early = c.get("/console/donors?from=2026-10-01&to=2026-10-31").text
    row = re.search(r'<tr data-donor="农夫山泉">(.*?)</tr>', early, re.S)
    assert row is not None and re.findall(r'<td class="num">(\d+)</td>', row[1]) == ["0", "0", "0"]


def test_a_donation_is_refused_with_a_reason_and_a_street_gives_only_to_itself(office: Office) -> None:
    water = catalogue.save_item(office.hub, "city", CatalogueDraft("矿泉水", "Water", "20", "农夫山泉"))
    tissues = catalogue.save_item(office.hub, "city", CatalogueDraft("抽纸", "Tissues", "15"))
    c = office.sign_in("huamu")
    page = c.get("/console/donors")
    token = csrf(page.text)
    places = dict(
        (name, oid) for oid, name in re.findall(r'<option value="(\d+)">([^<]+)</option>', page.text)
    )
    assert (
        "浦东新区 / 陆家嘴街道" not in places
        and "全市" not in page.text.split('name="place"')[1].split("</select>")[0]
    )
    lujiazui = next(o.id for o in store.orgs(office.hub) if o.name == "陆家嘴街道")
    for data, sentence in (
        ({"item": str(water.id), "quantity": "0", "place": places["浦东新区 / 花木街道"]}, "捐赠数量应是"),
        ({"item": str(water.id), "quantity": "10", "place": str(lujiazui)}, "只能为自己所辖的社区登记捐赠"),
        ({"item": str(water.id), "quantity": "10", "place": ""}, "只能为自己所辖的社区登记捐赠"),
        (
            {"item": str(tissues.id), "quantity": "10", "place": places["浦东新区 / 花木街道"]},
            "没有登记捐赠单位",
        ),
        ({"item": "x", "quantity": "10", "place": places["浦东新区 / 花木街道"]}, "没有这件商品"),
    ):
        r = c.post("/console/donors", data={"token": token, **data})
        assert r.status_code == 400 and sentence in r.text, data
    look = office.sign_in("look")
    r = look.post(
        "/console/donors",
        data={"token": csrf(look.get("/console/donors").text), "item": str(water.id), "quantity": "5"},
    )
    assert r.status_code == 403
    assert catalogue.donations(office.hub, CITY) == []


# --- pictures ---------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (1200, 900), **save: object) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, fmt, **save)
    return out.getvalue()


def test_an_uploaded_picture_becomes_a_small_png_without_its_metadata() -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "某品牌手机"  # the camera's maker: not for kiosks
    png = catalogue.normalised_picture(image_bytes("JPEG", exif=exif.tobytes()))
    with Image.open(io.BytesIO(png)) as shown:
        assert (
            shown.format == "PNG"
            and max(shown.size) == catalogue.PICTURE_PX
            and shown.size[0] > shown.size[1]
        )
        assert not shown.getexif() and "exif" not in shown.info
    for bad, sentence in (
        (b"not a picture", "请上传 PNG、JPEG 或 WebP 图片"),
        (image_bytes("GIF", (10, 10)), "请上传 PNG、JPEG 或 WebP 图片"),
        (image_bytes("PNG", (9000, 2)), "图片太大"),
        (b"\x89PNG" + b"\x00" * (catalogue.MAX_UPLOAD + 1), "图片不能超过 5 MB"),
    ):
        with pytest.raises(store.ConsoleError, match=sentence):
            catalogue.normalised_picture(bad)


def test_a_picture_uploaded_on_the_page_is_named_in_the_pull_and_served_to_kiosks_only(
    office: Office,
) -> None:
    water = catalogue.save_item(office.hub, "city", CatalogueDraft("矿泉水", "Water", "20"))
    c = office.sign_in("city")
    token = csrf(c.get("/console/catalogue").text)
    files = {"file": ("水.jpg", image_bytes("JPEG"), "image/jpeg")}
    r = c.post(
        f"/console/catalogue/{water.id}/picture", data={"token": token}, files=files, follow_redirects=False
    )
    assert r.status_code == 303
    (entry,) = sync.pull(office.hub, 0).catalogue or []
    assert entry.picture is not None and len(entry.picture) == 64
    page = c.get("/console/catalogue").text
    assert f'src="/console/catalogue/pictures/{entry.picture}"' in page
    shown = c.get(f"/console/catalogue/pictures/{entry.picture}")
    assert shown.status_code == 200 and hashlib.sha256(shown.content).hexdigest() == entry.picture
    api = office.browser()
    path = f"/v1/catalogue/pictures/{entry.picture}"
    assert api.get(path).status_code == 401  # no token: no picture
    got = api.get(path, headers={"authorization": f"Bearer {office.tokens[office.huamu]}"})
    assert (
        got.status_code == 200 and got.content == shown.content and got.headers["content-type"] == "image/png"
    )
    missing = api.get(
        "/v1/catalogue/pictures/" + "0" * 64,
        headers={"authorization": f"Bearer {office.tokens[office.huamu]}"},
    )
    assert missing.status_code == 404
    bad = c.post(
        f"/console/catalogue/{water.id}/picture",
        data={"token": token},
        files={"file": ("x.txt", b"hello", "text/plain")},
    )
    assert bad.status_code == 400 and "请上传 PNG、JPEG 或 WebP 图片" in bad.text
    assert (sync.pull(office.hub, 0).catalogue or [])[0].picture == entry.picture  # unchanged
    look = office.sign_in("look")
    r = look.post(
        f"/console/catalogue/{water.id}/picture",
        data={"token": csrf(look.get("/console/catalogue").text)},
        files=files,
    )
    assert r.status_code == 403
