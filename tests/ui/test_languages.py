"""Every screen in both languages: no Chinese on an English screen, no English on a Chinese one.

The real GUI is driven offscreen through a volunteer's visits (every step, every result,
every refusal, a printed card's PIN pad and its lockout) and a technician's session (PIN
pad, each tab, with an audit log holding every action the store writes). At each stop
the text of every visible widget — labels, buttons, check boxes, line edits and their
placeholders, combo boxes, tab titles, table cells, headers, cell widgets and tooltips,
the painted item tiles, window titles — is read in Chinese, the language button is
pressed, it is read again in English, and the button is pressed back.

What may cross languages, and why:

- data, not sentences: product names (an item without ``name_en`` shows its Chinese
  name; the items tab edits both), people's names (a name is not translated), picture
  file names, and ids (V0001, T001, a vend's 8 hex digits, anything with a digit);
- the unit 益币, in both languages by design;
- "PIN", the word on the technician's card and in ``kiosk-hub tech add``, in Chinese too;
- the language button, which names the other language in itself (English / 中文).

The driver's own error lines on the technician screen are a log of the lane board
protocol and are shown verbatim; this walk has none (the machine here keeps no log).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QTableWidget,
    QWidget,
)

from drivers.machine import DispenseResult, Flag, MachineStatus, Outcome
from kiosk.core.messages import NOTICES
from kiosk.core.people import mask_name
from kiosk.core.records import RefusedEvent
from kiosk.core.session import Notice, Step
from kiosk.core.sync_problems import SyncFailure, SyncProblem
from kiosk.demo import DEMO_PANEL, DEMO_TECH, DEMO_VOLUNTEERS
from kiosk.ui.widgets import ItemTile
from kiosk.ui.wording import AUDIT_ACTIONS
from tests.helpers import ScriptedMachine, make_app
from tests.ui.conftest import Driver

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")  # hanzi, CJK punctuation
WORD = re.compile(r"[A-Za-z]{2,}")
ID = re.compile(r"\b[A-Za-z]*\d[A-Za-z0-9]*\b|\b[0-9a-f]{8}\b")
TECH_WORDS = ("PIN",)


@dataclass
class GatedMachine(ScriptedMachine):
    """A scripted machine whose turns wait while the gate is shut (to see the dispensing screen)."""

    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def dispense(self, lane: int, **kw: Any) -> DispenseResult:
        self.gate.wait(10)
        return super().dispense(lane, **kw)


def _table_texts(table: QTableWidget) -> Iterator[str]:
    for c in range(table.columnCount()):
        header = table.horizontalHeaderItem(c)
        if header is not None:
            yield header.text()
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            item = table.item(r, c)
            if item is not None:
                yield item.text()
                yield item.toolTip()
            cell = table.cellWidget(r, c)
            if cell is not None:
                yield from _widget_texts(cell)


def _widget_texts(w: QWidget) -> Iterator[str]:
    yield w.toolTip()
    if isinstance(w, (QLabel, QAbstractButton)):
        yield w.text()
    elif isinstance(w, QLineEdit):
        yield w.text()
        yield w.placeholderText()
    elif isinstance(w, QComboBox):
        yield from (w.itemText(i) for i in range(w.count()))
    elif isinstance(w, QTabBar):
        yield from (w.tabText(i) for i in range(w.count()))
    elif isinstance(w, QTableWidget):
        yield from _table_texts(w)
    elif isinstance(w, ItemTile):
        yield from (w.name_text, w.price_text, w.tag_text or "")


def visible_texts(root: QWidget, skip: tuple[QWidget, ...] = ()) -> list[str]:
    """The text of every widget a person can see in ``root`` (and its window title)."""
    texts = [root.windowTitle()] if root.isWindow() else []
    for w in [root, *root.findChildren(QWidget)]:
        if w in skip or not (w is root or w.isVisibleTo(root)):
            continue
        texts += [t for t in _widget_texts(w) if t and t.strip()]
    return texts


@dataclass
class Languages:
    kiosk: Driver
    checked: int = 0
    verbatim: list[str] = field(default_factory=list)
    """Text shown as the network or a driver said it (a sync problem's detail), in any language."""

    def _strip(self, text: str) -> str:
        for d in [*self.verbatim, *_data(self.kiosk)]:
            text = text.replace(d, " ")
        return text.replace("益币", " ")

    def read(self, lang: str, roots: list[QWidget]) -> list[str]:
        w = self.kiosk.w
        assert self.kiosk.app.controller.lang == lang
        self.kiosk.qtbot.wait(5)  # widgets a layout just took in show on the next turn of the loop
        bad = []
        texts: list[str] = []
        for root in roots:
            texts += visible_texts(root, skip=(w.lang,))
        for text in texts:
            rest = self._strip(text)
            if lang == "en" and HAN.search(rest):
                bad.append(text)
            if lang == "zh":
                rest = ID.sub(" ", rest)
                for word in TECH_WORDS:
                    rest = rest.replace(word, " ")
                if WORD.search(rest):
                    bad.append(text)
        assert w.lang.text() == ("English" if lang == "zh" else "中文")
        assert bad == [], f"{lang} screen shows: {bad}"
        self.checked += len(texts)
        return texts

    def both(self, *roots: QWidget) -> tuple[list[str], list[str]]:
        """Read the screen in Chinese, switch, read it in English, switch back."""
        roots_ = list(roots) or [self.kiosk.w]
        zh = self.read("zh", roots_)
        self.kiosk.tap(self.kiosk.w.lang)
        en = self.read("en", roots_)
        self.kiosk.tap(self.kiosk.w.lang)
        assert zh != en
        return zh, en


def _data(kiosk: Driver) -> list[str]:
    """Names and other data that may appear in either language, longest first."""
    repo = kiosk.app.parts.store
    data = {i.name_zh for i in repo.items()} | {i.name_en for i in repo.items()}
    data |= {i.image for i in repo.items()}
    for _, name, _ in DEMO_VOLUNTEERS:
        data |= {name, mask_name(name)}
    data.add(DEMO_TECH[1])
    return sorted((d for d in data if d), key=len, reverse=True)


def _pin(kiosk: Driver, pin: str) -> None:
    for digit in pin:
        kiosk.tap(kiosk.w.tech_pin.keys[digit])
    kiosk.tap(kiosk.w.tech_pin.keys["ok"])
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)


def _card_pin(kiosk: Driver, pin: str) -> None:
    for digit in pin:
        kiosk.tap(kiosk.w.card_pin.keys[digit])
    kiosk.tap(kiosk.w.card_pin.keys["ok"])
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)


def _tech(kiosk: Driver, langs: Languages) -> None:
    kiosk.scan(kiosk.code("tech", "T001"))
    assert kiosk.w.current is kiosk.w.tech_pin
    langs.both()
    _pin(kiosk, "1111")
    assert kiosk.notice
    langs.both()
    _pin(kiosk, "2468")
    kiosk.wait_step(Step.TECH)
    kiosk.qtbot.waitUntil(lambda: kiosk.w.tech.lanes.rowCount() > 0, timeout=5000)


def _settle(kiosk: Driver) -> None:
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)
    kiosk.qtbot.wait(50)
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)


def _tabs(kiosk: Driver, langs: Languages) -> dict[int, tuple[list[str], list[str]]]:
    tabs = kiosk.w.tech.tabs
    seen = {}
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        seen[i] = langs.both()
    tabs.setCurrentIndex(0)
    return seen


@pytest.fixture
def gated(qtbot: Any, tmp_path: Path) -> Iterator[tuple[Driver, GatedMachine]]:
    machine = GatedMachine()
    app, codes, clock = make_app(tmp_path, machine=machine)
    app.window.resize(1280, 800)
    app.window.show()
    qtbot.waitUntil(lambda: app.background.idle and bool(app.session.offers), timeout=5000)
    yield Driver(app, codes, clock, qtbot), machine
    machine.gate.set()
    app.close()


def test_every_screen_reads_in_one_language(gated: tuple[Driver, GatedMachine]) -> None:
    kiosk, machine = gated
    w = kiosk.w
    langs = Languages(kiosk)

    # --- idle, and every refusal a notice can say ------------------------------------
    zh, en = langs.both()
    assert "请扫描志愿者码" in zh and "Please scan your volunteer code" in en
    for key in NOTICES:
        kiosk.app.session.refuse(Notice(key, {"n": 2}))
        langs.both(w.notice)
    kiosk.app.session.clear_notice()
    kiosk.scan(kiosk.code("expired"))
    langs.both()

    # --- a printed card with a PIN: the pad, a wrong PIN, the lockout (an audit row) ----
    kiosk.scan(kiosk.code("card", "V0003"))
    zh, en = langs.both()
    assert "这张志愿者卡设了密码，请输入 6 位数字密码" in zh and "Hello, 孙**" in en
    for _ in range(4):
        _card_pin(kiosk, "000000")
    zh, en = langs.both()
    assert (
        "密码不对，请再试一次（还可以试 1 次）" in zh
        and "That PIN is not right — please try again (tries left: 1)" in en
    )
    _card_pin(kiosk, "000000")  # card_pin_locked
    kiosk.wait_step(Step.IDLE)
    zh, en = langs.both()
    assert "Too many wrong PINs — please try again in 5 minutes, or ask the staff" in en

    # --- a technician sets up: each change leaves an audit row ------------------------
    _tech(kiosk, langs)
    tech = w.tech
    tech.lanes.cellWidget(0, 3).setValue(50)  # more than the lane holds: refused
    kiosk.tap(tech.lanes.cellWidget(0, 5))
    _settle(kiosk)
    assert tech.message.objectName() == "Error"
    zh, en = langs.both(tech.message)
    assert zh == ["未保存：库存应在 0 到容量之间"]
    tech.lanes.cellWidget(0, 3).setValue(5)
    kiosk.tap(tech.lanes.cellWidget(0, 5))  # lane_changed
    _settle(kiosk)
    assert tech.message.objectName() == "Done"
    kiosk.tap(tech.lanes.cellWidget(0, 6))  # lane_refilled
    _settle(kiosk)
    kiosk.tap(tech.lanes.cellWidget(2, 7))  # test_vend
    _settle(kiosk)
    langs.both(tech.message)
    kiosk.tap(tech.add_item)  # item_added
    kiosk.qtbot.waitUntil(lambda: tech.items.rowCount() == 9 and kiosk.app.background.idle, timeout=5000)
    tech.items.cellWidget(8, 2).setValue(40)
    kiosk.tap(tech.items.cellWidget(8, 4))  # item_changed
    _settle(kiosk)
    kiosk.tap(tech.exit)
    kiosk.wait_step(Step.IDLE)

    # --- a visit: identified, choosing, confirming, dispensing, a partial result -------
    kiosk.scan(kiosk.code("app"))
    langs.both()
    kiosk.tap_item("Tissues")
    kiosk.tap_item("Bottled water")
    kiosk.tap_item("Instant noodles")  # sold out: a tag and a notice
    zh, en = langs.both()
    assert "已兑完" in zh and "Sold out" in en
    kiosk.tap(w.catalog.next)
    kiosk.wait_step(Step.CONFIRMING)
    langs.both()
    machine.outcomes = [
        DispenseResult(Outcome.DISPENSED, 1),
        DispenseResult(Outcome.NOT_DISPENSED, 2, (Flag.MOTOR_DID_NOT_TURN,)),  # lane_disabled
    ]
    machine.gate.clear()
    kiosk.tap(w.confirm.confirm)
    kiosk.qtbot.waitUntil(lambda: kiosk.app.session.step is Step.DISPENSING, timeout=5000)
    zh, en = langs.both()
    assert "出货中…" in zh and "Waiting" in en
    machine.gate.set()
    kiosk.wait_step(Step.RESULT)
    zh, en = langs.both()
    assert "部分物品未出货，未出货的未扣益币" in zh and "Not dispensed, no 益币 taken" in en
    kiosk.tap(w.result.button)
    kiosk.wait_step(Step.IDLE)

    # --- nothing known to drop: an unknown line, the "none" result --------------------
    kiosk.scan(kiosk.code("app"))
    machine.outcomes = [DispenseResult(Outcome.UNKNOWN, 3, (Flag.NO_REPLY,))]
    kiosk.buy("Milk")
    zh, en = langs.both()
    assert "待核实，暂未扣益币" in zh and "Nothing was dispensed — no 益币 were taken" in en
    kiosk.tap(w.result.button)
    kiosk.wait_step(Step.IDLE)

    # --- cancelled while dispensing: a skipped line ------------------------------------
    kiosk.scan(kiosk.code("app"))
    kiosk.tap_item("Biscuits")
    kiosk.tap_item("Towel")
    kiosk.tap(w.catalog.next)
    kiosk.wait_step(Step.CONFIRMING)
    machine.gate.clear()
    kiosk.tap(w.confirm.confirm)
    kiosk.qtbot.waitUntil(lambda: kiosk.app.session.step is Step.DISPENSING, timeout=5000)
    kiosk.tap(w.dispensing.cancel)
    machine.gate.set()
    kiosk.wait_step(Step.RESULT)
    zh, en = langs.both()
    assert "已取消" in zh and "Cancelled" in en
    kiosk.tap(w.result.button)
    kiosk.wait_step(Step.IDLE)

    # --- everything dropped; then the daily cap, and a balance too low -----------------
    kiosk.scan(kiosk.code("app"))
    kiosk.buy("Tissues")
    zh, en = langs.both()
    assert "已出货，请从取物口取走" in zh
    kiosk.tap(w.result.button)
    kiosk.wait_step(Step.IDLE)
    kiosk.scan(kiosk.code("app"))
    zh, en = langs.both()
    assert "今日已达上限" in zh and "Daily limit reached" in en
    kiosk.tap_item("Tissues")
    langs.both()
    kiosk.tap(w.catalog.cancel)
    kiosk.wait_step(Step.IDLE)
    kiosk.scan(kiosk.code("app", "V0002"))
    zh, en = langs.both()
    assert "益币不足" in zh and "Not enough 益币" in en
    kiosk.tap(w.catalog.cancel)
    kiosk.wait_step(Step.IDLE)

    # --- the technician again: refund, settle the dispense in doubt, every tab ---------
    _tech(kiosk, langs)
    tech.tabs.setCurrentWidget(tech.recent)

    def refund_button() -> QWidget:
        rows = range(tech.recent.rowCount())
        return next(tech.recent.cellWidget(r, 6) for r in rows if tech.recent.cellWidget(r, 6))

    kiosk.tap(refund_button())  # the first tap asks again
    assert "再点一次确认" in langs.read("zh", [w])
    kiosk.tap(w.lang)  # the list is painted anew: the button asks again
    kiosk.tap(refund_button())
    assert "Tap again to refund" in langs.read("en", [w])
    kiosk.tap(refund_button())  # vend_refunded
    _settle(kiosk)
    kiosk.tap(w.lang)
    tabs = _tabs(kiosk, langs)
    assert "待核实" in tabs[2][0] and "Refunded" in tabs[2][1]
    assert "主板无应答" in tabs[4][0] and "board not answering" in tabs[4][1]
    assert any("电机没有转动" in t for t in tabs[0][0])  # lane 2's fault
    # the hub refused one of this kiosk's events: the sync writes it to the audit log
    event_id = "0123abcd-0000-4000-8000-000000000000"
    refused = RefusedEvent(event_id, "unknown_volunteer", "redemption", "V0009", 15)
    kiosk.app.parts.store.ack_events({}, [refused])  # event_refused
    tech.tabs.setCurrentWidget(tech.in_doubt)
    kiosk.tap(tech.in_doubt.cellWidget(0, 7))  # vend_settled
    _settle(kiosk)
    kiosk.tap(tech.desktop)
    kiosk.tap(tech.desktop)  # left_to_desktop (the app that would close is the test's)
    _settle(kiosk)
    actions = {a.action for a in kiosk.app.parts.store.audit_log()}
    assert actions == set(AUDIT_ACTIONS), "the walk shows every audit action"
    tech.tabs.setCurrentWidget(tech.audit)
    zh, en = langs.both()
    assert {"修改货道", "补货", "PIN 输错", "测试出货", "中心拒收"} <= set(zh)
    assert {"Lane changed", "Lane refilled", "Wrong PIN", "Test vend", "Lane disabled"} <= set(en)
    assert "Refused by the hub" in en and any("the hub does not know this volunteer" in t for t in en)
    assert {"志愿者卡密码锁定", "志愿者 V0003", "锁定 5 分钟"} <= set(zh)
    assert {"Card PIN locked", "Volunteer V0003", "locked for 5 minutes"} <= set(en)

    # --- the sync and machine lines in each state they have ---------------------------
    tech.show_sync("1790000000", 3, has_hub=True, offline=True)
    tech.show_status(MachineStatus(True, True, True, 4), (), "disconnected")
    zh, en = langs.both(tech.sync, tech.status)
    assert "离线" in zh[0] and "offline" in en[0]
    problem = SyncProblem(SyncFailure.TOKEN, "HTTP 401 to /v1/sync/push")
    langs.verbatim.append(problem.detail)
    tech.show_sync("1790000000", 3, has_hub=True, offline=False, problem=problem)
    zh, en = langs.both(tech.sync)
    assert "中心拒绝了本机的令牌：HTTP 401" in zh[0] and "hub refused this kiosk's token: HTTP 401" in en[0]
    tech.show_status(MachineStatus(False), (), "connecting")
    tech.show_sync(None, 0, has_hub=False)
    langs.both(tech.sync, tech.status)
    assert langs.checked > 2000


def test_the_simulator_window_follows_the_language_button(kiosk: Driver) -> None:
    sim = kiosk.app.simulator_window
    assert sim is not None
    sim.show()
    langs = Languages(kiosk)
    zh, en = langs.both(sim)
    assert "硬件模拟器" in zh and "Demo codes: click to scan" in en
    sim.scan(DEMO_PANEL[0])
    kiosk.qtbot.waitUntil(lambda: kiosk.app.session.step is Step.IDENTIFIED, timeout=5000)
    langs.both(sim, kiosk.w)


def test_the_check_catches_chinese_on_an_english_screen(kiosk: Driver) -> None:
    """The walk's reader fails on a sentence left in the other language."""
    langs = Languages(kiosk)
    kiosk.tap(kiosk.w.lang)
    kiosk.w.idle.hint.setText("请扫描志愿者码")
    with pytest.raises(AssertionError, match="en screen shows"):
        langs.read("en", [kiosk.w])
    kiosk.tap(kiosk.w.lang)
    kiosk.w.idle.hint.setText("Tap the items you want")
    with pytest.raises(AssertionError, match="zh screen shows"):
        langs.read("zh", [kiosk.w])
