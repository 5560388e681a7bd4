"""The real screens, driven as a volunteer and a technician would (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt

from kiosk.core.scan import DuplicateFilter
from kiosk.core.session import Step
from kiosk.demo import DemoCode
from tests.drivers.test_scanner import FakeScannerDevice
from tests.helpers import make_app
from tests.ui.conftest import Driver


def kinds(kiosk: Driver, volunteer: str = "V0001") -> list[str]:
    return [e.kind.value for e in kiosk.app.parts.store.entries(volunteer)]


def test_idle_shows_the_prompt_and_the_items_on_offer(kiosk: Driver) -> None:
    assert kiosk.w.current is kiosk.w.idle
    assert kiosk.w.idle.title.text() == "请扫描志愿者码"
    names = {t.offer.item.name_zh for t in kiosk.w.idle.grid.tiles.values()}
    assert {"抽纸", "矿泉水"} <= names


def test_scan_pick_two_confirm_both_drop(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app"))
    assert kiosk.app.session.step is Step.IDENTIFIED
    assert kiosk.w.catalog.greeting.text() == "您好，赵**"
    assert kiosk.w.catalog.balance.text() == "260"
    kiosk.tap_item("Tissues")
    kiosk.tap_item("Bottled water")
    assert kiosk.w.catalog.cart.text() == "已选 2 件，共 35 益币"
    assert kiosk.w.catalog.balance.text() == "225"
    kiosk.tap(kiosk.w.catalog.next)
    assert kiosk.w.current is kiosk.w.confirm
    assert "合计 35 益币" in kiosk.w.confirm.total.text()
    kiosk.tap(kiosk.w.confirm.confirm)
    kiosk.wait_step(Step.RESULT)
    assert kiosk.w.result.message.text() == "已出货，请从取物口取走"
    assert kiosk.w.result.balance.text() == "余额 225 益币"
    assert kinds(kiosk).count("charge") == 2
    assert kinds(kiosk).count("release") == 0
    assert kiosk.app.parts.simulator is not None and kiosk.app.parts.simulator.motor_turns == 2


def test_insufficient_balance_is_refused_kindly(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app", "V0002"))  # 35 益币
    tile = kiosk.w.catalog.grid.tiles[kiosk.item_id("Umbrella")]
    assert tile.tag_text == "益币不足"
    kiosk.tap_item("Umbrella")
    assert kiosk.notice == "益币不足，换一件试试吧"
    assert kiosk.app.session.cart == []


def test_the_daily_cap_is_reached(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app"))
    kiosk.tap_item("Tissues")
    kiosk.tap_item("Tissues")
    kiosk.tap_item("Tissues")
    assert kiosk.notice == "这件物品今天已兑换 2 次，明天再来吧"
    assert len(kiosk.app.session.cart) == 2


def test_sold_out_items_are_marked_and_refused(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app"))
    assert kiosk.w.catalog.grid.tiles[kiosk.item_id("Instant noodles")].tag_text == "已兑完"
    kiosk.tap_item("Instant noodles")
    assert kiosk.notice == "这件物品已经兑完了，换一件吧"


def test_a_jam_charges_nothing_and_releases_the_hold(kiosk: Driver) -> None:
    sim = kiosk.app.parts.simulator
    assert sim is not None
    sim.set_jammed(1, True)  # lane 1 holds the tissues
    kiosk.scan(kiosk.code("app"))
    kiosk.buy("Tissues")
    assert kiosk.w.result.message.text() == "未出货，未扣益币"
    assert sorted(kinds(kiosk)) == ["credit", "hold", "release"]
    assert kiosk.app.parts.store.balance("V0001").available == 260
    assert sim.motor_turns == 0


def test_an_expired_code_says_what_to_do(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("expired"))
    assert kiosk.app.session.step is Step.IDLE
    assert kiosk.notice == "二维码已过期，请在手机上刷新后再扫"


def test_a_replayed_code_is_refused(kiosk: Driver) -> None:
    code = kiosk.code("app")
    kiosk.scan(code)
    kiosk.tap(kiosk.w.catalog.cancel)
    kiosk.app.scanner.duplicates = DuplicateFilter()  # as if more than 2 s went by
    kiosk.scan(code)
    assert kiosk.app.session.step is Step.IDLE
    assert kiosk.notice == "这个二维码已经用过了，请刷新后再扫"


def test_the_same_code_within_two_seconds_is_ignored(kiosk: Driver) -> None:
    code = kiosk.code("app")
    kiosk.scan(code)
    with kiosk.qtbot.assertNotEmitted(kiosk.app.controller.scan_handled, wait=200):
        kiosk.qtbot.keyClicks(kiosk.w, code)
        kiosk.qtbot.keyClick(kiosk.w, Qt.Key.Key_Return)
    assert kiosk.notice == ""  # no "already used" for a phone held under the scanner


def test_human_typing_is_not_a_scan(kiosk: Driver) -> None:
    with kiosk.qtbot.assertNotEmitted(kiosk.app.scanner.code_scanned, wait=100):
        kiosk.qtbot.keyClicks(kiosk.w, "V0001abcd", delay=70)
        kiosk.qtbot.keyClick(kiosk.w, Qt.Key.Key_Return)


def test_english_toggle(kiosk: Driver) -> None:
    kiosk.tap(kiosk.w.lang)
    assert kiosk.w.idle.title.text() == "Please scan your volunteer code"
    kiosk.scan(kiosk.code("expired"))
    assert kiosk.notice == "This code has expired — refresh it on your phone and scan again"


def enter_pin(kiosk: Driver, pin: str) -> None:
    for digit in pin:
        kiosk.tap(kiosk.w.tech_pin.keys[digit])
    kiosk.tap(kiosk.w.tech_pin.keys["ok"])
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)


def test_technician_login_and_five_wrong_pins_lock(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("tech", "T001"))
    assert kiosk.w.current is kiosk.w.tech_pin
    for left in (4, 3, 2, 1):
        enter_pin(kiosk, "1111")
        assert kiosk.notice == f"PIN 不正确，还可以再试 {left} 次"
    enter_pin(kiosk, "1111")
    assert kiosk.notice == "PIN 已锁定，请 5 分钟后再试"
    enter_pin(kiosk, "2468")  # the right PIN is refused while locked
    assert kiosk.app.session.step is Step.TECH_PIN
    kiosk.clock.advance(301)
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)


def test_a_price_change_appears_in_the_audit_log(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("tech", "T001"))
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    kiosk.qtbot.waitUntil(lambda: kiosk.w.tech.items.rowCount() > 0, timeout=5000)
    table = kiosk.w.tech.items
    row = next(r for r in range(table.rowCount()) if table.cellWidget(r, 1).text() == "Tissues")
    table.cellWidget(row, 2).setValue(18)
    kiosk.tap(table.cellWidget(row, 4))
    kiosk.qtbot.waitUntil(
        lambda: kiosk.w.tech.audit.rowCount() > 0 and kiosk.app.background.idle, timeout=5000
    )
    audit = kiosk.w.tech.audit
    assert kiosk.app.parts.store.audit_log(1)[0].action == "item_changed"
    assert (audit.item(0, 1).text(), audit.item(0, 2).text(), audit.item(0, 3).text()) == (
        "T001",
        "修改商品",
        "抽纸",
    )
    assert (audit.item(0, 4).text(), audit.item(0, 5).text()) == ("价格 15 益币", "价格 18 益币")
    kiosk.tap(kiosk.w.tech.exit)
    kiosk.wait_step(Step.IDLE)
    tissues = next(t for t in kiosk.w.idle.grid.tiles.values() if t.offer.item.name_en == "Tissues")
    assert tissues.price_text == "18 益币"


def test_refill_all_from_the_technician_screen(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("tech", "T001"))
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    kiosk.tap(kiosk.w.tech.refill_all)
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)
    assert all(lane.stock == lane.capacity for lane in kiosk.app.parts.store.lanes())
    assert kiosk.app.parts.store.audit_log()[0].action == "lane_refilled"


def test_inactivity_returns_to_idle(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app"))
    kiosk.app.session.timeouts = type(kiosk.app.session.timeouts)(identified=0.2)
    kiosk.wait_step(Step.IDLE, timeout=5000)
    assert kiosk.w.current is kiosk.w.idle


def test_the_worker_writes_the_scanned_code_to_disk_after_answering(kiosk: Driver) -> None:
    import sqlite3

    kiosk.scan(kiosk.code("app"))
    db = sqlite3.connect(kiosk.app.parts.config.db_path)
    try:
        assert db.execute("SELECT count(*) FROM seen_codes").fetchone()[0] == 1
    finally:
        db.close()


def test_a_technician_adds_an_item_and_names_it(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("tech", "T001"))
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    table = kiosk.w.tech.items
    kiosk.qtbot.waitUntil(lambda: table.rowCount() == 8, timeout=5000)
    kiosk.tap(kiosk.w.tech.add_item)
    kiosk.qtbot.waitUntil(lambda: table.rowCount() == 9 and kiosk.app.background.idle, timeout=5000)
    table.cellWidget(8, 0).setText("雨衣")
    table.cellWidget(8, 1).setText("Raincoat")
    table.cellWidget(8, 2).setValue(60)
    table.cellWidget(8, 3).setText("raincoat.png")
    kiosk.tap(table.cellWidget(8, 4))
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)
    added = kiosk.app.parts.store.items()[-1]
    assert (added.name_zh, added.name_en, added.price, added.image) == (
        "雨衣",
        "Raincoat",
        60,
        "raincoat.png",
    )
    assert [a.action for a in kiosk.app.parts.store.audit_log(2)] == ["item_changed", "item_added"]


def test_a_technician_is_told_a_hub_items_price_is_set_at_the_hub(kiosk: Driver) -> None:
    store = kiosk.app.parts.store
    water = next(i for i in store.items() if i.price == 20)
    store.apply_pull(
        {"cursor": 1, "volunteers": [], "catalogue": [{"id": 7, "name_zh": water.name_zh, "price": 25}]}
    )
    kiosk.scan(kiosk.code("tech", "T001"))
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    table = kiosk.w.tech.items
    kiosk.qtbot.waitUntil(lambda: table.rowCount() == 8, timeout=5000)
    row = next(r for r in range(table.rowCount()) if table.cellWidget(r, 0).text() == water.name_zh)
    assert table.cellWidget(row, 2).value() == 25
    assert table.cellWidget(row, 2).isReadOnly() and table.cellWidget(row, 0).isReadOnly()
    assert not table.cellWidget(row, 3).isReadOnly()  # its picture is the kiosk's
    table.cellWidget(row, 2).setValue(10)  # set anyway (as a stale screen could): still refused
    kiosk.tap(table.cellWidget(row, 4))
    kiosk.qtbot.waitUntil(
        lambda: kiosk.app.background.idle and "街道" in kiosk.w.tech.message.text(), timeout=5000
    )
    assert kiosk.w.tech.message.text() == "未保存：这件商品的名称和价格由街道后台统一设定"
    assert next(i for i in store.items() if i.id == water.id).price == 25


def test_the_idle_screen_shows_the_honour_roll_in_turn_and_a_volunteer_only_their_own_standing(
    kiosk: Driver,
) -> None:
    idle = kiosk.w.idle
    kiosk.qtbot.waitUntil(lambda: kiosk.app.session.honour is not None, timeout=5000)
    assert idle.turns.currentWidget() is idle.grid and idle.section.text() == "今日可兑换"
    assert idle.timer.isActive() and idle.timer.interval() == 8000
    idle.next_turn()
    assert idle.turns.currentWidget() is idle.honour and idle.section.text() == "志愿服务光荣榜"
    first, _ = idle.honour.columns
    lines = [line.text() for line in first[1] if not line.isHidden()]
    assert lines[:3] == ["1. 赵**　26 小时", "2. 周**　18 小时", "3. 孙**　15 小时"] and len(lines) == 10
    shown = " ".join(line.text() for _, col in idle.honour.columns for line in col)
    assert "益币" not in shown and "赵小明" not in shown  # hours and masked names, never a balance
    idle.next_turn()
    assert idle.turns.currentWidget() is idle.grid

    kiosk.scan(kiosk.code("app", "V0001"))
    kiosk.wait_step(Step.IDENTIFIED)
    assert kiosk.w.catalog.standing.text() == "本月服务 26 小时，社区第 1 名，谢谢您！"
    assert kiosk.w.catalog.standing.isVisible()
    kiosk.tap(kiosk.w.catalog.cancel)
    kiosk.wait_step(Step.IDLE)
    # V0001 opts out at the hub: the next board names them nowhere, and their screen says nothing
    store = kiosk.app.parts.store
    board = store.honour_board()
    assert board is not None
    board = board | {"stamp": "opted-out", "standings": [s for s in board["standings"] if s[0] != "V0001"]}
    store.set_honour_board(board)
    kiosk.app.parts.service.after_sync()
    kiosk.scan(kiosk.code("app", "V0001"))
    kiosk.wait_step(Step.IDENTIFIED)
    assert not kiosk.w.catalog.standing.isVisible()


def test_a_serial_scanner_feeds_the_same_path_and_duplicates_are_dropped(qtbot: Any, tmp_path: Path) -> None:
    device = FakeScannerDevice()
    app, codes, clock = make_app(tmp_path, scanner_port=device.url)
    handled: list[int] = []
    app.controller.scan_handled.connect(lambda: handled.append(1))
    try:
        code = codes.make(DemoCode("", "app", "V0001"), now=clock()).encode()
        # opening a port clears its input buffer: a real scanner is read from then on
        assert app.serial_scanner is not None
        qtbot.waitUntil(lambda: app.serial_scanner.state == "connected", timeout=5000)
        device.send(code[:50])
        device.send(code[50:] + b"\r\n" + code + b"\r\n")  # split, then read twice at once
        qtbot.waitUntil(lambda: app.session.step is Step.IDENTIFIED, timeout=5000)
        qtbot.wait(200)
        assert handled == [1]
    finally:
        app.close()
        device.close()


def test_technician_diagnostics_through_the_real_driver(qtbot: Any, tmp_path: Path) -> None:
    from drivers.lane_board.client import LaneBoardClient
    from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard

    model = BoardModel({n: LaneState(5) for n in range(1, 9)}, turn_s=0.2)
    board = PtyBoard(model)
    client = LaneBoardClient.open(board.port)
    app, codes, clock = make_app(tmp_path, machine=client)
    kiosk = Driver(app, codes, clock, qtbot)
    try:
        app.window.show()
        kiosk.scan(kiosk.code("tech", "T001"))
        enter_pin(kiosk, "2468")
        kiosk.wait_step(Step.TECH)
        qtbot.waitUntil(lambda: "4 °C" in app.window.tech.status.text(), timeout=5000)
        kiosk.tap(app.window.tech.lanes.cellWidget(0, 7))  # 测试出货 on lane 1
        qtbot.waitUntil(lambda: model.motor_turns == 1 and app.background.idle, timeout=5000)
        assert app.parts.store.audit_log()[0].action == "test_vend"
        model.faults.silent = True
        kiosk.tap(app.window.tech.lanes.cellWidget(0, 7))  # the table was rebuilt
        qtbot.waitUntil(lambda: "机器无应答" in app.window.tech.status.text(), timeout=10000)
        assert "最近错误" in app.window.tech.status.text()
    finally:
        app.close()
        board.close()


def test_a_code_pasted_into_the_simulator_is_scanned(kiosk: Driver) -> None:
    """A simulated cabinet's window stands in for the scanner, for codes from the hub or a card."""
    panel = kiosk.app.simulator_window
    assert panel is not None
    with kiosk.qtbot.waitSignal(kiosk.app.controller.scan_handled, timeout=5000):
        panel.paste.setText("  " + kiosk.code("app") + "\n")
        panel.paste.returnPressed.emit()
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)
    assert kiosk.app.session.step is Step.IDENTIFIED and panel.paste.text() == ""


def test_a_technician_refunds_a_dispensed_item_with_two_taps(kiosk: Driver) -> None:
    start = kiosk.app.parts.store.balance("V0001").available
    kiosk.scan(kiosk.code("app"))
    kiosk.buy("Tissues")
    kiosk.tap(kiosk.w.result.button)
    kiosk.wait_step(Step.IDLE)
    kiosk.scan(kiosk.code("tech", "T001"))
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    assert kiosk.w.tech.sync.text() == "同步：未配置中心"  # a demo has none
    kiosk.w.tech.tabs.setCurrentWidget(kiosk.w.tech.recent)
    assert kiosk.w.tech.recent.item(0, 5).text() == "已出货"
    button = kiosk.w.tech.recent.cellWidget(0, 6)
    kiosk.tap(button)  # the first tap only asks
    assert button.text() == "再点一次确认"
    assert kiosk.app.parts.store.balance("V0001").available == start - 15
    kiosk.tap(button)
    kiosk.qtbot.waitUntil(lambda: kiosk.app.parts.store.balance("V0001").available == start, timeout=5000)
    kiosk.qtbot.waitUntil(lambda: kiosk.w.tech.recent.item(0, 5).text() == "已退回", timeout=5000)
    assert kiosk.app.parts.store.audit_log(1)[0].action == "vend_refunded"


def test_the_sync_line_says_when_the_kiosk_is_offline(kiosk: Driver) -> None:
    tech = kiosk.w.tech
    tech.show_sync(None, 3, has_hub=True, offline=True)
    assert tech.sync.text() == "同步：上次 从未 · 待上传 3 · 离线，限额生效"
    tech.show_sync(None, 0, has_hub=True, offline=False)
    assert "离线" not in tech.sync.text()


def test_a_simulated_machine_outside_demo_mode_says_so_on_every_screen(qtbot: Any, tmp_path: Path) -> None:
    app, codes, clock = make_app(tmp_path, demo=False)
    try:
        app.window.resize(1280, 800)
        app.window.show()
        qtbot.waitUntil(lambda: app.background.idle and bool(app.session.offers), timeout=5000)
        driver = Driver(app, codes, clock, qtbot)
        mark = app.window.training
        seen = [(app.session.step, mark.isVisible(), mark.text())]
        driver.scan(driver.code("app"))
        driver.wait_step(Step.IDENTIFIED)
        seen.append((app.session.step, mark.isVisible(), mark.text()))
        driver.tap(app.window.lang)
        seen.append((app.session.step, mark.isVisible(), mark.text()))
        assert seen == [
            (Step.IDLE, True, "演示机 · 模拟出货，不出真实物品"),
            (Step.IDENTIFIED, True, "演示机 · 模拟出货，不出真实物品"),
            (Step.IDENTIFIED, True, "Training kiosk · simulated, nothing real is dispensed"),
        ]
    finally:
        app.close()


def test_demo_mode_has_no_training_mark(kiosk: Driver) -> None:
    assert kiosk.w.training.isHidden()


def test_the_next_visit_starts_in_the_configured_language(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app"))
    kiosk.wait_step(Step.IDENTIFIED)
    kiosk.tap(kiosk.w.lang)
    assert kiosk.w.idle.isHidden() and kiosk.app.controller.lang == "en"
    kiosk.tap(kiosk.w.catalog.cancel)
    kiosk.wait_step(Step.IDLE)
    assert (kiosk.app.controller.lang, kiosk.w.lang.text()) == ("zh", "English")
    assert kiosk.w.title.text() == "时间银行 · 益币兑换"


def test_a_notice_never_moves_a_control_from_under_a_finger(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app"))
    kiosk.wait_step(Step.IDENTIFIED)
    controls = [kiosk.w.catalog.grid.tiles[kiosk.item_id("Tissues")], kiosk.w.catalog.cancel]

    def places() -> list[object]:
        return [c.mapTo(kiosk.w, c.rect().topLeft()) for c in controls]

    before = places()
    kiosk.tap_item("Instant noodles")  # sold out: refused with a notice
    assert kiosk.notice == "这件物品已经兑完了，换一件吧"
    kiosk.app.qt.processEvents()
    assert places() == before
    # a tap where the notice lies reaches the control beneath it
    assert kiosk.w.notice.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)


def test_a_refusal_on_the_idle_screen_covers_the_whole_prompt_not_half_of_it(kiosk: Driver) -> None:
    idle = kiosk.w.idle
    prompt = [idle.title, idle.hint]
    before = [w.mapTo(kiosk.w, w.rect().topLeft()) for w in prompt]
    kiosk.scan(kiosk.code("expired"))
    kiosk.app.qt.processEvents()
    assert kiosk.w.notice.isVisible()
    notice = kiosk.w.notice.geometry()
    for widget in prompt:
        place = QRect(widget.mapTo(kiosk.w, widget.rect().topLeft()), widget.size())
        assert notice.contains(place, proper=False), (widget.text(), place, notice)
    assert [w.mapTo(kiosk.w, w.rect().topLeft()) for w in prompt] == before  # nothing moved
    assert notice.bottom() < idle.section.mapTo(kiosk.w, idle.section.rect().topLeft()).y()


# Qt's gesture manager says this of the touch points that its scroller took over
@pytest.mark.qt_log_ignore("could not find the target for gesture")
def test_a_finger_drags_the_item_grid_without_tapping_a_tile(kiosk: Driver) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    kiosk.scan(kiosk.code("app"))
    kiosk.wait_step(Step.IDENTIFIED)
    grid = kiosk.w.catalog.grid
    bar = grid.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    # a finger lands on a tile and drags up, as the touchscreen delivers it to the window
    window, finger = kiosk.w.windowHandle(), QTest.createTouchDevice()
    tile = kiosk.w.catalog.grid.tiles[kiosk.item_id("Milk")]
    start = tile.mapTo(kiosk.w, tile.rect().center())
    QTest.touchEvent(window, finger).press(0, start, window).commit()
    for step in range(1, 13):
        QTest.qWait(16)
        QTest.touchEvent(window, finger).move(0, start - QPoint(0, step * 25), window).commit()
    QTest.touchEvent(window, finger).release(0, start - QPoint(0, 300), window).commit()
    kiosk.qtbot.waitUntil(lambda: bar.value() > 100, timeout=3000)
    assert kiosk.app.session.cart == [], "a drag is not a tap"


def test_a_locked_kiosk_closes_only_at_a_technicians_word(
    kiosk: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.app import LEFT_TO_DESKTOP, leave_to_desktop, lock_down

    lock_down(kiosk.app)
    assert kiosk.w.close() is False and kiosk.w.isVisible()  # Alt+F4, the compositor's close
    flags = kiosk.w.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint and flags & Qt.WindowType.WindowStaysOnTopHint
    kiosk.tap(kiosk.w.tech.desktop)  # not a technician: nothing happens
    assert kiosk.app.session.step is Step.IDLE
    kiosk.scan(kiosk.code("tech", "T001"))
    enter_pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    with kiosk.qtbot.assertNotEmitted(kiosk.w.tech.desktop_requested):
        kiosk.tap(kiosk.w.tech.desktop)  # one tap only asks again: a slip of the finger is not enough
    assert kiosk.w.tech.desktop.text() == "再按一次确认关闭"
    with kiosk.qtbot.waitSignal(kiosk.app.controller.desktop_requested, timeout=5000):
        kiosk.tap(kiosk.w.tech.desktop)
    entry = kiosk.app.parts.store.audit_log(1)[0]
    assert (entry.actor, entry.action) == ("T001", "left_to_desktop")
    exits: list[int] = []
    monkeypatch.setattr(kiosk.app.qt, "exit", exits.append)  # no event loop of the test's to end
    leave_to_desktop(kiosk.app)
    assert exits == [LEFT_TO_DESKTOP] and kiosk.w.close() is True


def test_the_simulator_panel_opens_on_the_screen(kiosk: Driver) -> None:
    from kiosk.app import place_beside

    panel = kiosk.app.simulator_window
    assert panel is not None
    screen = kiosk.w.screen().availableGeometry()
    kiosk.w.setGeometry(screen.left(), screen.top(), screen.width(), screen.height())  # the kiosk fills it
    place_beside(panel, kiosk.w)
    assert screen.contains(panel.frameGeometry().topLeft())
    assert panel.frameGeometry().right() <= screen.right()
