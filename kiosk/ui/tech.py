"""Technician screens: the PIN pad, and lanes, items, recent redemptions, audit log.

The technician screen shows lists the controller hands it and sends each change up as
one signal (``lane_saved``, ``item_saved``, ``refilled``, ``test_vend_requested``); the
controller runs it on the worker, where the store writes it with an audit row. It keeps
the last lists it was handed, so the language button repaints them in the other
language at once; every word on it comes from the catalogue (:mod:`.wording`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
)

from drivers.machine import MachineStatus

from ..core.catalog import Item, Lane
from ..core.messages import N_, SOURCE, Lang, say, say_in
from ..core.records import AuditEntry, InDoubt, Redemption
from ..core.session import Session
from ..core.sync_problems import SyncProblem
from .screens import PinPadScreen, Screen
from .theme import SHEETS, apply
from .widgets import big_button, finger_scroll, label
from .wording import (
    audit_action,
    audit_actor,
    audit_fields,
    audit_target,
    flags,
    item_names,
    status_lines,
    sync_line,
    vend_state,
    when,
)


class TechPinScreen(PinPadScreen):
    """The technician's PIN, after their code's scan."""

    def show_prompt(self, session: Session, lang: str) -> None:
        self.title.setText(say("技术员登录：请输入 PIN", lang))
        self.hint.setVisible(False)


NO_ITEM = -1  # a lane with no item (None in a QVariant trips PySide's refcounting)


def _table(columns: int) -> QTableWidget:
    table = QTableWidget(0, columns)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(60)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    finger_scroll(table)
    return table


def _headers(table: QTableWidget, headers: Sequence[str], lang: Lang) -> None:
    table.setHorizontalHeaderLabels([say(h, lang) if h else "" for h in headers])


class TechScreen(Screen):
    """Lanes, items, recent redemptions and the audit log, for a technician."""

    lane_saved = Signal(int, dict)
    item_saved = Signal(int, dict)
    item_added = Signal()
    refilled = Signal(object)  # lane number, or None for every lane
    test_vend_requested = Signal(int)
    exited = Signal()
    desktop_requested = Signal()
    in_doubt_settled = Signal(str, bool)  # vend id, whether the item dropped
    refunded = Signal(str)  # vend id of a dispensed item whose 益币 are given back

    LANE_COLUMNS = (N_("货道"), N_("商品"), N_("容量"), N_("库存"), N_("启用"), "", "", "")
    ITEM_COLUMNS = (N_("中文名"), N_("英文名"), N_("价格（益币）"), N_("图片文件"), "")
    RECENT_COLUMNS = (N_("时间"), N_("志愿者"), N_("商品"), N_("货道"), N_("益币"), N_("状态"), "")
    AUDIT_COLUMNS = (N_("时间"), N_("操作人"), N_("操作"), N_("对象"), N_("之前"), N_("之后"))
    IN_DOUBT_COLUMNS = (N_("时间"), N_("货道"), N_("志愿者"), N_("商品"), N_("益币"), N_("机器回复"), "", "")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(SHEETS["Tech"])
        self.lang: Lang = SOURCE
        top = QHBoxLayout()
        self.title = label(name="Section", wrap=False)
        self.status = label(name="Subtitle")
        self.exit = big_button("")
        self.exit.clicked.connect(self.exited)
        # closing the program leaves the kiosk dark until someone restarts it: a second tap
        # within a few seconds confirms it
        self.desktop = big_button("")
        self.desktop.clicked.connect(self._on_desktop_tapped)
        self._desktop_armed = QTimer(self)
        self._desktop_armed.setSingleShot(True)
        self._desktop_armed.setInterval(5000)
        self._desktop_armed.timeout.connect(self._paint_words)
        top.addWidget(self.title)
        top.addWidget(self.status, 1)
        top.addWidget(self.desktop)
        top.addWidget(self.exit)
        self.box.addLayout(top)
        self.sync = label(name="Subtitle")
        self.box.addWidget(self.sync)
        self.tabs = QTabWidget()
        self.box.addWidget(self.tabs, 1)
        # lanes
        lanes_page = QWidget()
        lanes_box = QGridLayout(lanes_page)
        self.lanes = _table(len(self.LANE_COLUMNS))
        header = self.lanes.horizontalHeader()
        for column in (0, 2, 3, 4, 5, 6, 7):  # the item's name and price take what is left
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        lanes_box.addWidget(self.lanes, 0, 0, 1, 2)
        self.refill_all = big_button("")
        self.refill_all.clicked.connect(lambda: self.refilled.emit(None))
        lanes_box.addWidget(self.refill_all, 1, 1, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(lanes_page, "")
        # items
        items_page = QWidget()
        items_box = QGridLayout(items_page)
        self.items = _table(len(self.ITEM_COLUMNS))
        items_box.addWidget(self.items, 0, 0, 1, 2)
        self.add_item = big_button("")
        self.add_item.clicked.connect(self.item_added)
        items_box.addWidget(self.add_item, 1, 1, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(items_page, "")
        # recent redemptions, audit log, dispenses in doubt
        self.recent = _table(len(self.RECENT_COLUMNS))
        self.tabs.addTab(self.recent, "")
        self.audit = _table(len(self.AUDIT_COLUMNS))
        self.tabs.addTab(self.audit, "")
        self.in_doubt = _table(len(self.IN_DOUBT_COLUMNS))
        self.tabs.addTab(self.in_doubt, "")
        self.message = label(name="Done")
        self.box.addWidget(self.message)
        # what was last shown, to paint again in the other language
        self._lanes: tuple[Sequence[Lane], dict[int, str]] = ((), {})
        self._items: list[Item] = []
        self._recent: Sequence[Redemption] = ()
        self._audit: Sequence[AuditEntry] = ()
        self._in_doubt: Sequence[InDoubt] = ()
        self._status: tuple[MachineStatus, Sequence[str], str | None] | None = None
        self._sync: tuple[str | None, int, bool, bool, SyncProblem | None] | None = None
        self._message: tuple[str, dict[str, Any], bool] | None = None
        self._paint_words()

    def hideEvent(self, event: QHideEvent) -> None:
        self._desktop_armed.stop()  # a first tap does not outlive the screen
        self._paint_words()
        super().hideEvent(event)

    def _on_desktop_tapped(self) -> None:
        if not self.isVisible():
            return
        if self._desktop_armed.isActive():
            self._desktop_armed.stop()
            self._paint_words()
            self.desktop_requested.emit()
        else:
            self._desktop_armed.start()
            self._paint_words()

    def show_session(self, session: Session, lang: str) -> None:
        changed = lang != self.lang
        self.lang = lang
        self.title.setText(say("技术员模式", lang) + f" · {session.tech_id or ''}")
        if changed:
            self._paint_words()
            self._repaint_lists()

    def _paint_words(self) -> None:
        lang = self.lang
        self.exit.setText(say("退出", lang))
        armed = self._desktop_armed.isActive()
        self.desktop.setText(say("再按一次确认关闭", lang) if armed else say("关闭自助机程序", lang))
        self.refill_all.setText(say("全部补满", lang))
        self.add_item.setText(say("新增商品", lang))
        self.tabs.setTabText(0, say_in("tab", "货道", lang))
        self.tabs.setTabText(1, say_in("tab", "商品", lang))
        self.tabs.setTabText(2, say_in("tab", "最近兑换", lang))
        self.tabs.setTabText(3, say_in("tab", "审计日志", lang))
        self._paint_in_doubt_tab()
        for table, columns in (
            (self.lanes, self.LANE_COLUMNS),
            (self.items, self.ITEM_COLUMNS),
            (self.recent, self.RECENT_COLUMNS),
            (self.audit, self.AUDIT_COLUMNS),
            (self.in_doubt, self.IN_DOUBT_COLUMNS),
        ):
            _headers(table, columns, lang)

    def _paint_in_doubt_tab(self) -> None:
        self.tabs.setTabText(4, say("待核实出货 ({n})", self.lang, n=len(self._in_doubt)))

    def _repaint_lists(self) -> None:
        if self._status is not None:
            self.show_status(*self._status)
        if self._sync is not None:
            self.show_sync(*self._sync)
        self.show_lanes(self._lanes[0], self._items, self._lanes[1])
        self.show_items(self._items)
        self.show_recent(self._recent)
        self.show_audit(self._audit)
        self.show_in_doubt(self._in_doubt)
        if self._message is not None:
            msgid, params, error = self._message
            self.show_message(msgid, error, **params)

    def show_message(self, msgid: str, error: bool = False, **params: Any) -> None:
        """A sentence of the catalogue after a change: done (green) or not saved (dark red)."""
        self._message = (msgid, params, error)
        apply(self.message, "Error" if error else "Done")
        self.message.setText(say(msgid, self.lang, **params))

    def show_sync(
        self,
        last_sync: str | None,
        queued: int,
        has_hub: bool = True,
        offline: bool = False,
        problem: SyncProblem | None = None,
    ) -> None:
        self._sync = (last_sync, queued, has_hub, offline, problem)
        self.sync.setText(sync_line(last_sync, queued, has_hub, offline, self.lang, problem))

    def show_status(
        self, status: MachineStatus, errors: Sequence[str] = (), scanner: str | None = None
    ) -> None:
        """Board status (doors, temperature), scanner state, the driver's latest error lines."""
        self._status = (status, errors, scanner)
        self.status.setText(
            status_lines(
                status.alive,
                status.service_door_open,
                status.pickup_flap_open,
                status.temperature_c,
                scanner,
                errors,
                self.lang,
            )
        )

    def show_lanes(self, lanes: Sequence[Lane], items: Sequence[Item], faults: dict[int, str]) -> None:
        lang = self.lang
        self._lanes = (lanes, faults)
        self._items = list(items)
        t = self.lanes
        t.setRowCount(len(lanes))
        for row, lane in enumerate(lanes):
            fault = faults.get(lane.number)
            number = QTableWidgetItem(f"{lane.number}" + (f"  ⚠ {flags(fault, lang)}" if fault else ""))
            t.setItem(row, 0, number)
            combo = QComboBox()
            combo.addItem("—", NO_ITEM)
            for item in items:
                price = say("{n} 益币", lang, n=item.price)
                combo.addItem(f"{item.name(lang)} · {price}", item.id)
            combo.setCurrentIndex(max(0, combo.findData(NO_ITEM if lane.item_id is None else lane.item_id)))
            t.setCellWidget(row, 1, combo)
            capacity = QSpinBox()
            capacity.setRange(0, 99)
            capacity.setValue(lane.capacity)
            t.setCellWidget(row, 2, capacity)
            stock = QSpinBox()
            stock.setRange(0, 99)
            stock.setValue(lane.stock)
            t.setCellWidget(row, 3, stock)
            enabled = QCheckBox()
            enabled.setChecked(lane.enabled)
            t.setCellWidget(row, 4, enabled)
            save = big_button(say("保存", lang), small=True)
            save.clicked.connect(
                lambda _=False, n=lane.number, c=combo, cap=capacity, s=stock, e=enabled: (
                    self.lane_saved.emit(
                        n,
                        {
                            "item_id": None if c.currentData() == NO_ITEM else c.currentData(),
                            "capacity": cap.value(),
                            "stock": s.value(),
                            "enabled": e.isChecked(),
                        },
                    )
                )
            )
            refill = big_button(say("补满", lang), small=True)
            refill.clicked.connect(lambda _=False, n=lane.number: self.refilled.emit(n))
            vend = big_button(say("测试出货", lang), small=True)
            vend.clicked.connect(lambda _=False, n=lane.number: self.test_vend_requested.emit(n))
            t.setCellWidget(row, 5, save)
            t.setCellWidget(row, 6, refill)
            t.setCellWidget(row, 7, vend)
        t.setRowHeight(0, 64)

    def show_items(self, items: Sequence[Item]) -> None:
        self._items = list(items)
        t = self.items
        t.setRowCount(len(items))
        for row, item in enumerate(items):
            zh = QLineEdit(item.name_zh)
            en = QLineEdit(item.name_en)
            price = QSpinBox()
            price.setRange(1, 100_000)
            price.setValue(item.price)
            if (
                item.hub_id is not None
            ):  # the street office's catalogue sets these; the picture is the kiosk's
                for field in (zh, en):
                    field.setReadOnly(True)
                price.setReadOnly(True)
                price.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
                for widget in (zh, en, price):
                    widget.setToolTip(say("名称和价格由街道后台统一设定", self.lang))
            t.setCellWidget(row, 0, zh)
            t.setCellWidget(row, 1, en)
            t.setCellWidget(row, 2, price)
            image = QLineEdit(item.image)
            t.setCellWidget(row, 3, image)
            save = big_button(say("保存", self.lang), small=True)
            save.clicked.connect(
                lambda _=False, i=item.id, z=zh, e=en, p=price, im=image: self.item_saved.emit(
                    i,
                    {
                        "name_zh": z.text().strip(),
                        "name_en": e.text().strip(),
                        "price": p.value(),
                        "image": im.text().strip(),
                    },
                )
            )
            t.setCellWidget(row, 4, save)

    def show_recent(self, rows: Sequence[Redemption]) -> None:
        lang = self.lang
        self._recent = rows
        t = self.recent
        t.setRowCount(len(rows))
        for r, x in enumerate(rows):
            for c, text in enumerate(
                (
                    when(x.at),
                    f"{x.volunteer_name} ({x.volunteer_id})",
                    x.item(lang),
                    str(x.lane),
                    str(x.amount),
                    vend_state(x.state, lang),
                )
            ):
                t.setItem(r, c, QTableWidgetItem(text))
            if x.state == "dispensed":
                give_back = big_button(say("退回益币", lang), small=True)
                give_back.clicked.connect(lambda _=False, b=give_back, v=x.vend_id: self._refund_tapped(b, v))
                t.setCellWidget(r, 6, give_back)
            else:
                t.removeCellWidget(r, 6)

    def _refund_tapped(self, button: QPushButton, vend_id: str) -> None:
        """Giving 益币 back cannot be undone: the first tap asks, a second one does it."""
        if button.property("armed"):
            button.setEnabled(False)
            self.refunded.emit(vend_id)
            return
        button.setProperty("armed", True)
        button.setText(say("再点一次确认", self.lang))

        def disarm() -> None:
            button.setProperty("armed", False)
            button.setText(say("退回益币", self.lang))

        QTimer.singleShot(4000, button, disarm)

    def show_in_doubt(self, rows: Sequence[InDoubt]) -> None:
        lang = self.lang
        self._in_doubt = rows
        t = self.in_doubt
        t.setRowCount(len(rows))
        for r, x in enumerate(rows):
            cells = (
                when(x.at),
                str(x.lane),
                f"{x.volunteer_name} ({x.volunteer_id})",
                x.item(lang),
                str(x.amount),
                flags(x.board_said, lang) or "—",
            )
            for c, text in enumerate(cells):
                t.setItem(r, c, QTableWidgetItem(text))
            dropped = big_button(say("已出货·扣", lang), small=True)
            dropped.clicked.connect(lambda _=False, v=x.vend_id: self.in_doubt_settled.emit(v, True))
            not_dropped = big_button(say("未出货·退", lang), small=True)
            not_dropped.clicked.connect(lambda _=False, v=x.vend_id: self.in_doubt_settled.emit(v, False))
            t.setCellWidget(r, 6, dropped)
            t.setCellWidget(r, 7, not_dropped)
        self._paint_in_doubt_tab()

    def show_audit(self, rows: Sequence[AuditEntry]) -> None:
        lang = self.lang
        self._audit = rows
        name = item_names(self._items, lang)
        t = self.audit
        t.setRowCount(len(rows))
        for r, x in enumerate(rows):
            for c, text in enumerate(
                (
                    when(x.at),
                    audit_actor(x.actor, lang),
                    audit_action(x.action, lang),
                    audit_target(x.target, lang, name),
                    audit_fields(x.before, lang, name),
                    audit_fields(x.after, lang, name),
                )
            ):
                t.setItem(r, c, QTableWidgetItem(text))
