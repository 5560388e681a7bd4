"""End to end over real HTTP: hub (uvicorn on loopback) ↔ kiosk store, exactly once.

Import hours at the hub, sync, scan a hub-issued code at the kiosk, redeem, sync: the
hub's balance drops exactly once, however often the kiosk syncs, and the kiosk's
balance stays exact as the charge becomes reflected in the pulled balance.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub import sync
from hub.ingest import EventLimits
from hub.models import KioskEvent, LedgerEntry
from hub.service import Hub
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.sync import HubClient, HubError, Syncer, stored_page
from protocol.codes import CodeKind
from protocol.pins import pin_matches
from tests.helpers import free_port

HOURS = "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,赵小明,3,助老,2026-11-01\n"


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Parts]:
    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=("timebank-hub",))

    def stock(repo):  # type: ignore[no-untyped-def]
        item = repo.add_item("tech", "抽纸", "Tissues", 15)
        repo.add_lane("tech", 1, item.id, 10, 10)

    parts = bootstrap(config, seed=stock)
    yield parts
    parts.close()


def test_redeem_then_sync_reduces_the_hub_balance_exactly_once(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    token = hub.add_kiosk("驿站-1")["token"]
    syncer = Syncer(kiosk.store, HubClient(url, token))
    first = syncer.run_once()  # the technician's two changes that stocked the kiosk go up too
    assert first.as_json() == {"ok": True, "pushed": 2, "pulled": 1}
    kiosk.service.reload_trust()

    scanned = kiosk.service.scan(hub.issue_code("V1", CodeKind.APP))
    assert scanned.volunteer is not None and scanned.volunteer.available == 30
    tissues = kiosk.store.items()[0]
    assert kiosk.service.vend("V1", tissues, "visit").available == 15

    assert syncer.run_once().as_json() == {"ok": True, "pushed": 1, "pulled": 1}
    assert hub.balance("V1")["balance"] == 15
    assert syncer.run_once().as_json() == {"ok": True, "pushed": 0, "pulled": 0}
    assert hub.balance("V1")["balance"] == 15  # not twice
    assert kiosk.store.balance("V1").available == 15  # the charge is now inside the hub balance


def test_a_redemption_goes_up_with_what_a_report_needs(hub_server: tuple[Hub, str], kiosk: Parts) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    added = hub.add_kiosk("驿站-1")
    client = HubClient(url, added["token"])
    sent: list[Any] = []
    push = client.push
    client.push = lambda events: sent.extend(events) or push(events)  # type: ignore[method-assign]
    syncer = Syncer(kiosk.store, client)
    assert kiosk.store.setting(Syncer.KIOSK_ID) is None
    syncer.run_once()
    assert kiosk.store.setting(Syncer.KIOSK_ID) == added["kiosk_id"]  # the pull page told it
    tissues = kiosk.store.items()[0]
    kiosk.service.vend("V1", tissues, "visit")
    sent.clear()
    assert syncer.run_once().ok
    (redemption,) = [e for e in sent if e["kind"] == "redemption"]
    assert redemption["kiosk_id"] == added["kiosk_id"]
    with hub.unit() as s:
        entry = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "redemption")).one()
        sold = (entry.item_id, entry.item_name, entry.unit_price, entry.quantity, entry.lane, entry.kiosk_id)
    assert sold == (tissues.id, "抽纸", 15, 1, 1, added["kiosk_id"]) and entry.amount == -15


def test_a_price_set_at_the_hub_is_charged_after_the_next_sync_and_kept_in_its_history(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    from hub.console import catalogue
    from hub.console.rules import CatalogueDraft

    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    syncer = Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-1")["token"]))
    tissues = catalogue.save_item(hub, "city", CatalogueDraft("抽纸", "Tissues", "12", "维达"))
    assert syncer.run_once().ok
    (item,) = kiosk.store.items()
    assert (item.price, item.hub_id) == (12, tissues.id)  # the technician's 抽纸, now the hub's
    catalogue.save_item(hub, "city", CatalogueDraft("抽纸", "Tissues", "18", "维达"), tissues.id)
    assert kiosk.service.vend("V1", kiosk.store.items()[0], "visit").available == 30 - 12
    assert syncer.run_once().ok  # the charge at 12 goes up, then the page brings 18
    assert kiosk.store.items()[0].price == 18
    assert kiosk.service.vend("V1", kiosk.store.items()[0], "visit").available == 30 - 12 - 18
    assert syncer.run_once().ok and hub.balance("V1")["balance"] == 0
    with hub.unit() as s:
        prices = [
            e.unit_price for e in s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "redemption"))
        ]
    assert sorted(prices) == [12, 18]
    assert [c.price for c in catalogue.history(hub, tissues.id)] == [18, 12]  # newest first


def test_a_catalogue_picture_is_fetched_once_checked_and_kept_beside_the_database(
    hub_server: tuple[Hub, str], kiosk: Parts, tmp_path: Path
) -> None:
    import hashlib
    import io

    from PIL import Image

    from hub.console import catalogue
    from hub.console.rules import CatalogueDraft

    hub, url = hub_server
    tissues = catalogue.save_item(hub, "city", CatalogueDraft("抽纸", "Tissues", "15"))
    upload = io.BytesIO()
    Image.new("RGB", (800, 800), (240, 240, 230)).save(upload, "JPEG")
    sha = catalogue.set_picture(hub, "city", tissues.id, upload.getvalue())
    client = HubClient(url, hub.add_kiosk("驿站-1")["token"])
    fetched: list[str] = []
    picture = client.picture
    client.picture = lambda name: fetched.append(name) or picture(name)  # type: ignore[method-assign]
    folder = kiosk.config.pictures_dir
    syncer = Syncer(kiosk.store, client, pictures=folder)
    assert syncer.run_once().ok
    (item,) = kiosk.store.items()
    kept = folder / f"{sha}.png"
    assert item.image == str(kept) and hashlib.sha256(kept.read_bytes()).hexdigest() == sha
    assert not list(folder.glob("*.part"))
    assert syncer.run_once().ok and fetched == [sha]  # kept: not fetched again

    # a picture the hub cannot give, or not what its name says, is refused, nothing is
    # written, and the sync still counts as good: the item shows its badge until the next
    kept.unlink()
    with pytest.raises(HubError):
        HubClient(url, client.token).picture("0" * 64)
    other = HubClient(url, client.token)
    call = other._call

    def tampered(method: str, path: str, body: bytes | None = None) -> bytes:
        return b"not the picture" if path.startswith("/v1/catalogue/") else call(method, path, body)

    other._call = tampered  # type: ignore[method-assign]
    with pytest.raises(HubError, match="not the one named"):
        other.picture(sha)
    assert Syncer(kiosk.store, other, pictures=folder).run_once().ok
    assert not kept.exists() and not list(folder.glob("*.part"))


def test_the_honour_roll_comes_down_once_and_again_only_when_it_changed(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    from hub.console import store
    from hub.console.rules import Level

    hub, url = hub_server
    store.add_org(hub, "浦东新区", Level.DISTRICT, None)
    store.add_org(hub, "花木街道", Level.STREET, "浦东新区")
    store.add_org(hub, "牡丹社区", Level.COMMUNITY, "浦东新区/花木街道")
    added = hub.add_kiosk("驿站-1")
    store.place_kiosk(hub, added["kiosk_id"], "浦东新区/花木街道/牡丹社区")
    import datetime as dt

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()  # this month's
    hub.import_hours(HOURS.replace("2026-11-01", today).encode())
    store.place_volunteer(hub, "test", "V1", "浦东新区/花木街道/牡丹社区")
    client = HubClient(url, added["token"])
    boards: list[object] = []
    pull = client.pull

    def watched(*args: Any, **kwargs: Any) -> Any:
        page = pull(*args, **kwargs)
        boards.append(page.honour)
        return page

    client.pull = watched  # type: ignore[method-assign]
    syncer = Syncer(kiosk.store, client)
    assert syncer.run_once().ok
    board = kiosk.store.honour_board()
    assert board is not None and board["community_month"] == [["赵**", 30]]
    assert syncer.run_once().ok and boards[-1] is None  # unchanged: not sent again
    kiosk.service.after_sync()
    scanned = kiosk.service.scan(hub.issue_code("V1", CodeKind.APP))
    assert scanned.volunteer is not None and scanned.volunteer.standing is not None
    assert (scanned.volunteer.standing.tenths, scanned.volunteer.standing.place) == (30, 1)
    store.rank_volunteer(hub, "test", "V1", False)
    assert syncer.run_once().ok and boards[-1] is not None
    assert kiosk.store.honour_board()["standings"] == []  # type: ignore[index]


def test_a_voucher_shown_at_a_kiosk_is_sent_to_the_partner_not_taken(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    from hub import vouchers

    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    assert Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-1")["token"])).run_once().ok
    kiosk.service.after_sync()
    _, code = vouchers.issue(hub, "V1", "儿童公园一日游", 20)
    scanned = kiosk.service.scan(code)
    assert scanned.volunteer is None and scanned.notice is not None and scanned.notice.key == "voucher_here"


def test_a_refund_goes_up_naming_its_charge_and_is_applied_once(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    syncer = Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-1")["token"]))
    syncer.run_once()
    kiosk.service.vend("V1", kiosk.store.items()[0], "visit")
    assert syncer.run_once().ok and hub.balance("V1")["balance"] == 15
    (sold,) = kiosk.store.recent_redemptions()
    kiosk.store.refund("T1", sold.vend_id)
    assert syncer.run_once().ok and hub.balance("V1")["balance"] == 30
    with hub.unit() as s:
        charge = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "redemption")).one()
        reversal = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reversal")).one()
    assert reversal.reverses == charge.event_id and reversal.amount == 15
    assert hub.quarantined() == [] and kiosk.store.balance("V1").available == 30


def test_an_event_the_hub_refuses_is_not_sent_again_and_the_technician_sees_why(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    syncer = Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-1")["token"]))
    syncer.run_once()
    hub.limits = EventLimits(max_amount=10)  # the hub takes at most 10 益币 an event; tissues cost 15
    kiosk.service.vend("V1", kiosk.store.items()[0], "visit")
    report = syncer.run_once()
    assert report.ok and report.pushed == 1  # the sync goes on: the refusal is an answer
    assert kiosk.store.queued_events() == 0
    assert syncer.run_once().as_json() == {"ok": True, "pushed": 0, "pulled": 0}  # never sent again
    assert hub.balance("V1")["balance"] == 30 and kiosk.store.balance("V1").available == 30
    (refused,) = [a for a in kiosk.store.audit_log() if a.action == "event_refused"]
    assert refused.actor == "hub" and json.loads(refused.after or "")["refused"] == "amount_over_limit"
    (held,) = hub.quarantined()
    assert held["reason"] == "amount_over_limit" and held["event"]["amount"] == 15


def test_a_status_report_the_contract_refuses_does_not_stop_the_sync(
    hub_server: tuple[Hub, str], kiosk: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    syncer = Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-1")["token"]))
    report = kiosk.store.status_report()
    report["lanes"][0]["item"] = "抽纸\x07"  # a control character a technician pasted into a name
    monkeypatch.setattr(kiosk.store, "status_report", lambda *_: report)
    assert syncer.run_once().as_json() == {"ok": True, "pushed": 2, "pulled": 1}
    assert hub.kiosks()[0]["status"] is None  # not sent; the events were


def test_a_malformed_page_or_reply_fails_the_sync_and_stores_nothing(kiosk: Parts) -> None:
    client = HubClient("http://hub.invalid", "t")
    page = {"cursor": 9, "more": False, "volunteers": [["V1", "赵小明", "35"]], "jwks": {"keys": []}}
    client._call = lambda method, path, body=None: json.dumps(  # type: ignore[method-assign]
        {**page, "revoked": [], "technicians": []} if method == "GET" else {"acks": [{"id": "x", "seq": "1"}]}
    ).encode()
    with pytest.raises(HubError, match=r"malformed reply: pull page: volunteers\.0\.2"):
        client.pull(0, 10)
    report = Syncer(kiosk.store, client).run_once()
    assert not report.ok and "malformed reply" in (report.error or "")
    # nothing stored, nothing acked
    assert kiosk.store.sync_cursor() == 0 and kiosk.store.queued_events() == 2


def test_an_acknowledgement_lost_on_the_way_back_is_safe(hub_server: tuple[Hub, str], kiosk: Parts) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    token = hub.add_kiosk("驿站-1")["token"]
    syncer = Syncer(kiosk.store, HubClient(url, token))
    syncer.run_once()
    kiosk.service.vend("V1", kiosk.store.items()[0], "visit")
    events = kiosk.store.pending_events()
    HubClient(url, token).push(events)  # applied at the hub, but the kiosk never heard back
    assert kiosk.store.queued_events() == 1
    assert syncer.run_once().ok
    assert kiosk.store.queued_events() == 0
    assert hub.balance("V1")["balance"] == 15


def test_technicians_come_down_and_their_changes_and_the_kiosk_status_go_up(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    hub.set_technician("T7", "刘师傅", "246810")
    token = hub.add_kiosk("驿站-2")["token"]
    syncer = Syncer(kiosk.store, HubClient(url, token))
    assert syncer.run_once().ok
    assert kiosk.service.check_pin("T7", "246810").ok  # a technician the hub added opens this kiosk
    kiosk.store.update_lane("T7", 1, stock=4)
    assert syncer.run_once().as_json() == {"ok": True, "pushed": 2, "pulled": 0}  # login and lane change
    assert kiosk.store.queued_events() == 0
    (listed,) = hub.kiosks()
    assert listed["name"] == "驿站-2" and listed["status"]["lanes"][0]["stock"] == 4
    assert listed["status"]["queued_events"] == 0
    with hub.unit() as s:
        actions = sorted(json.loads(body)["action"] for body in s.scalars(select(KioskEvent.body)))
    assert actions == ["item_added", "lane_added", "lane_changed", "tech_login"]


def test_a_card_pin_set_or_cleared_comes_down_with_the_next_sync(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    syncer = Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-6")["token"]))
    assert syncer.run_once().ok and kiosk.store.card_pin("V1") is None
    hub.set_card_pin("V1", "135790")
    assert syncer.run_once().as_json() == {"ok": True, "pushed": 0, "pulled": 0}  # no balance moved
    found = kiosk.store.card_pin("V1")
    assert found is not None and pin_matches("135790", found[0])
    hub.clear_card_pin("V1")
    assert syncer.run_once().ok and kiosk.store.card_pin("V1") is None


def test_a_kiosk_that_synced_before_card_pins_gets_every_one_at_its_first_sync(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    hub.set_card_pin("V1", "135790")
    hub.import_hours(HOURS.replace("R1,V1", "R2,V2").encode())  # the ledger moves past the PIN
    older = sync.pull(hub, 0)  # as a protocol 3 kiosk stored it: balances, no card PINs
    kiosk.store.apply_pull({**stored_page(older), "card_pins": None})
    assert kiosk.store.sync_cursor() == 2 and kiosk.store.card_pin("V1") is None
    syncer = Syncer(kiosk.store, HubClient(url, hub.add_kiosk("驿站-7")["token"]))
    assert syncer.run_once().as_json() == {"ok": True, "pushed": 2, "pulled": 0}
    assert kiosk.store.card_pin("V1") is not None and kiosk.store.card_pins_cursor() == 2


def test_the_hub_down_leaves_everything_queued(kiosk: Parts) -> None:
    kiosk.store.upsert_volunteers([("V1", "赵小明")])
    kiosk.store.credit("V1", 30)
    kiosk.service.vend("V1", kiosk.store.items()[0], "visit")
    report = Syncer(kiosk.store, HubClient(f"http://127.0.0.1:{free_port()}", "t", timeout_s=2)).run_once()
    assert not report.ok and report.pushed == 0 and "unreachable" in (report.error or "")
    assert kiosk.store.queued_events() == 3  # the redemption and the two stocking changes
    assert [e["kind"] for e in kiosk.store.pending_events()].count("redemption") == 1


def test_kiosk_sync_once_command(hub_server: tuple[Hub, str], tmp_path: Path) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    token = hub.add_kiosk("驿站-3")["token"]
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[store]\npath = "k.db"\n[codes]\nissuers = ["timebank-hub"]\n[machine]\nkind = "simulated"\n'
        f'[hub]\nurl = "{url}"\ntoken = "{token}"\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "sync", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ok": True, "pushed": 0, "pulled": 1}


@contextmanager
def syncing_kiosk(qtbot, hub: Hub, url: str, root: Path, name: str) -> Iterator[tuple[Any, Any]]:  # type: ignore[no-untyped-def]
    """The whole GUI kiosk syncing with ``hub`` every 0.2 s on the wall clock the hub signs
    with; yields (app, clock) once the trust list arrived and reached the verifier."""
    from tests.helpers import WallClock, make_app

    hub.import_hours(HOURS.encode())
    token = hub.add_kiosk(name)["token"]
    app, _, clock = make_app(
        root, clock=WallClock(), issuers=("timebank-hub",), hub_url=url, hub_token=token, sync_interval_s=0.2
    )
    try:
        kid = hub.jwks()["keys"][0]["kid"]
        # the trust list arrived and the worker handed it to the verifier (after storing the page)
        qtbot.waitUntil(lambda: kid in app.parts.service.verifier.trust.kids, timeout=10000)
        yield app, clock
    finally:
        app.close()


def test_the_running_kiosk_syncs_in_the_background(qtbot, hub_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.core.session import Step

    hub, url = hub_server
    with syncing_kiosk(qtbot, hub, url, tmp_path / "k", "驿站-4") as (app, _):
        app.scanner.inject(hub.issue_code("V1", CodeKind.APP))
        qtbot.waitUntil(lambda: app.session.step is Step.IDENTIFIED, timeout=5000)
        assert app.session.volunteer is not None and app.session.volunteer.available == 30


def test_a_card_revoked_at_the_hub_is_refused_after_one_sync(qtbot, hub_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.core.session import Step

    hub, url = hub_server
    with syncing_kiosk(qtbot, hub, url, tmp_path / "k", "驿站-5") as (app, clock):
        card = hub.issue_code("V1", CodeKind.CARD)
        verdict = app.parts.service.verifier.verify(card, now=int(clock()))
        assert verdict.ok and verdict.claims is not None
        hub.revoke_card(verdict.claims.jti)  # a lost card; no balance changes with it
        # the next sync brings the revocation: from then on the running kiosk refuses the card
        # (waited for in the verifier, which reloads it after the sync: the store has it first)
        jti = verdict.claims.jti
        qtbot.waitUntil(lambda: app.parts.service.verifier.trust.is_revoked(jti), timeout=10000)
        app.scanner.inject(card)
        qtbot.waitUntil(lambda: app.session.notice is not None, timeout=5000)
        assert app.session.step is Step.IDLE and app.session.notice.key == "revoked"


def test_a_card_pin_set_at_the_hub_is_asked_for_after_the_next_sync_and_not_once_cleared(  # type: ignore[no-untyped-def]
    qtbot, hub_server, tmp_path: Path
) -> None:
    from kiosk.core.session import Step

    hub, url = hub_server
    with syncing_kiosk(qtbot, hub, url, tmp_path / "k", "驿站-8") as (app, _):
        hub.set_card_pin("V1", "135790")  # no balance moves with it
        qtbot.waitUntil(lambda: app.parts.store.card_pin("V1") is not None, timeout=10000)
        app.scanner.inject(hub.issue_code("V1", CodeKind.CARD))
        qtbot.waitUntil(lambda: app.session.step is Step.CARD_PIN, timeout=5000)
        for key in [*"135790", "ok"]:
            app.window.card_pin.keys[key].click()
        qtbot.waitUntil(lambda: app.session.step is Step.IDENTIFIED, timeout=5000)
        assert app.window.catalog.balance.text() == "30"
        app.window.catalog.cancelled.emit()
        hub.clear_card_pin("V1")
        qtbot.waitUntil(lambda: app.parts.store.card_pin("V1") is None, timeout=10000)
        app.scanner.inject(hub.issue_code("V1", CodeKind.CARD))
        qtbot.waitUntil(lambda: app.session.step is Step.IDENTIFIED, timeout=5000)  # no PIN asked
