"""Technician screens: the PIN pad, and lanes, items, recent redemptions, audit log.

The technician screen shows lists the controller hands it and sends each change up as
one signal (``lane_saved``, ``item_saved``, ``refilled``, ``test_vend_requested``); the
controller runs it on the worker, where the store writes it with an audit row.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
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
from ..core.messages import say
from ..core.records import AuditEntry, InDoubt, Redemption
from ..core.session import Session
from .screens import Screen
from .theme import SHEETS, apply
from .widgets import big_button, label


class TechPinScreen(Screen):
    pin_entered = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Section", center=True)
        self.dots = label(name="Big", center=True)
        self.box.addWidget(self.title)
        self.box.addWidget(self.dots)
        pad = QGridLayout()
        pad.setSpacing(12)
        self.keys: dict[str, Any] = {}
        for i, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"]):
            button = big_button(key, primary=key == "ok")
            apply(button, "Primary" if key == "ok" else "Key")
            button.clicked.connect(lambda _=False, k=key: self._press(k))
            pad.addWidget(button, i // 3, i % 3)
            self.keys[key] = button
        self.cancel = big_button("")
        self.cancel.clicked.connect(self.cancelled)
        pad.addWidget(self.cancel, 3, 3)
        holder = QHBoxLayout()
        holder.addStretch()
        holder.addLayout(pad)
        holder.addStretch()
        self.box.addLayout(holder)
        self.box.addStretch(1)
        self._pin = ""

    def _press(self, key: str) -> None:
        if key == "clear":
            self._pin = ""
        elif key == "ok":
            pin, self._pin = self._pin, ""
            self.pin_entered.emit(pin)
        elif len(self._pin) < 12:
            self._pin += key
        self.dots.setText("●" * len(self._pin) or " ")

    def show_session(self, session: Session, lang: str) -> None:
        self.title.setText(say("tech_pin_title", lang))
        self.keys["clear"].setText(say("clear", lang))
        self.keys["ok"].setText(say("ok", lang))
        self.cancel.setText(say("cancel", lang))
        self.dots.setText("●" * len(self._pin) or " ")


NO_ITEM = -1  # a lane with no item (None in a QVariant trips PySide's refcounting)


def _table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(60)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    return table


def _when(at: int) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(at))


VEND_STATES = {
    "dispensed": "已出货\ndispensed",
    "not_dispensed": "未出货\nnot dispensed",
    "unknown": "待核实\nin doubt",
    "in_flight": "出货中\nturning",
    "refunded": "已退回\nrefunded",
}


class TechScreen(Screen):
    """Lanes, items, recent redemptions and the audit log, for a technician."""

    lane_saved = Signal(int, dict)
    item_saved = Signal(int, dict)
    item_added = Signal()
    refilled = Signal(object)  # lane number, or None for every lane
    test_vend_requested = Signal(int)
    exited = Signal()
    in_doubt_settled = Signal(str, bool)  # vend id, whether the item dropped
    refunded = Signal(str)  # vend id of a dispensed item whose 益币 are given back

    LANE_COLUMNS = ("货道 Lane", "商品 Item", "容量 Cap.", "库存 Stock", "启用 On", "", "", "")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(SHEETS["Tech"])
        top = QHBoxLayout()
        self.title = label(name="Section", wrap=False)
        self.status = label(name="Subtitle")
        self.exit = big_button("")
        self.exit.clicked.connect(self.exited)
        top.addWidget(self.title)
        top.addWidget(self.status, 1)
        top.addWidget(self.exit)
        self.box.addLayout(top)
        self.sync = label(name="Subtitle")
        self.box.addWidget(self.sync)
        self.tabs = QTabWidget()
        self.box.addWidget(self.tabs, 1)
        # lanes
        lanes_page = QWidget()
        lanes_box = QGridLayout(lanes_page)
        self.lanes = _table(self.LANE_COLUMNS)
        lanes_box.addWidget(self.lanes, 0, 0, 1, 2)
        self.refill_all = big_button("")
        self.refill_all.clicked.connect(lambda: self.refilled.emit(None))
        lanes_box.addWidget(self.refill_all, 1, 1, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(lanes_page, "")
        # items
        items_page = QWidget()
        items_box = QGridLayout(items_page)
        self.items = _table(("名称 Name", "English", "价格 Price (益币)", "图片 Image (assets/items)", ""))
        items_box.addWidget(self.items, 0, 0, 1, 2)
        self.add_item = big_button("")
        self.add_item.clicked.connect(self.item_added)
        items_box.addWidget(self.add_item, 1, 1, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(items_page, "")
        # recent redemptions and audit log
        self.recent = _table(
            ("时间 Time", "志愿者 Volunteer", "商品 Item", "货道 Lane", "益币", "状态 State", "")
        )
        self.tabs.addTab(self.recent, "")
        self.audit = _table(
            ("时间 Time", "操作人 Who", "操作 What", "对象 Target", "之前 Before", "之后 After")
        )
        self.tabs.addTab(self.audit, "")
        self.in_doubt = _table(
            ("时间 Time", "货道 Lane", "志愿者 Volunteer", "商品 Item", "益币", "机器回复 Board said", "", "")
        )
        self.tabs.addTab(self.in_doubt, "")
        self.message = label(name="Subtitle")
        self.box.addWidget(self.message)
        self._items: list[Item] = []

    def show_session(self, session: Session, lang: str) -> None:
        self.title.setText(say("tech_title", lang) + f" · {session.tech_id or ''}")
        self.exit.setText(say("tech_exit", lang))
        self.refill_all.setText(say("tech_refill_all", lang))
        self.add_item.setText(say("tech_add_item", lang))
        for i, key in enumerate(("tech_lanes", "tech_items", "tech_recent")):
            self.tabs.setTabText(i, say(key, lang))
        self.tabs.setTabText(3, "审计日志 Audit" if lang == "zh" else "Audit log")
        self.tabs.setTabText(4, say("tech_in_doubt", lang, n=self.in_doubt.rowCount()))

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def show_sync(
        self, last_sync: str | None, queued: int, has_hub: bool = True, offline: bool = False
    ) -> None:
        if not has_hub:
            self.sync.setText("同步 sync: 未配置中心 no hub configured")
            return
        when = _when(int(last_sync)) if last_sync else "从未 never"
        state = " · 离线，限额生效 offline, caps apply" if offline else ""
        self.sync.setText(f"同步 sync: 上次 last {when} · 待上传 queued {queued}{state}")

    def show_status(
        self, status: MachineStatus, errors: Sequence[str] = (), scanner: str | None = None
    ) -> None:
        """Board status (doors, temperature, last error), scanner state, recent driver errors."""
        if not status.alive:
            parts = ["机器无应答 machine not answering"]
        else:
            parts = ["机器正常 OK"]
            if status.service_door_open:
                parts.append("维修门开 door open")
            if status.pickup_flap_open:
                parts.append("取物口开 flap open")
            if status.temperature_c is not None:
                parts.append(f"{status.temperature_c} °C")
        if scanner is not None:
            parts.append(f"扫码器 scanner: {scanner}")
        lines = [" · ".join(parts)]
        if errors:
            lines.append("最近错误 recent errors: " + " | ".join(errors[-3:]))
        self.status.setText("\n".join(lines))

    def show_lanes(self, lanes: Sequence[Lane], items: Sequence[Item], faults: dict[int, str]) -> None:
        self._items = list(items)
        t = self.lanes
        t.setRowCount(len(lanes))
        for row, lane in enumerate(lanes):
            fault = faults.get(lane.number)
            number = QTableWidgetItem(f"{lane.number}" + (f"  ⚠ {fault}" if fault else ""))
            t.setItem(row, 0, number)
            combo = QComboBox()
            combo.addItem("—", NO_ITEM)
            for item in items:
                combo.addItem(f"{item.name_zh} · {item.price} 益币", item.id)
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
            save = big_button(say("tech_save"), small=True)
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
            refill = big_button(say("tech_refill"), small=True)
            refill.clicked.connect(lambda _=False, n=lane.number: self.refilled.emit(n))
            vend = big_button(say("tech_test_vend"), small=True)
            vend.clicked.connect(lambda _=False, n=lane.number: self.test_vend_requested.emit(n))
            t.setCellWidget(row, 5, save)
            t.setCellWidget(row, 6, refill)
            t.setCellWidget(row, 7, vend)
        t.setRowHeight(0, 64)

    def show_items(self, items: Sequence[Item]) -> None:
        t = self.items
        t.setRowCount(len(items))
        for row, item in enumerate(items):
            zh = QLineEdit(item.name_zh)
            en = QLineEdit(item.name_en)
            price = QSpinBox()
            price.setRange(1, 100_000)
            price.setValue(item.price)
            t.setCellWidget(row, 0, zh)
            t.setCellWidget(row, 1, en)
            t.setCellWidget(row, 2, price)
            image = QLineEdit(item.image)
            t.setCellWidget(row, 3, image)
            save = big_button(say("tech_save"), small=True)
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
        t = self.recent
        t.setRowCount(len(rows))
        for r, x in enumerate(rows):
            for c, text in enumerate(
                (
                    _when(x.at),
                    f"{x.volunteer_name} ({x.volunteer_id})",
                    x.item_name,
                    str(x.lane),
                    str(x.amount),
                    VEND_STATES.get(x.state, x.state).split("\n")[0],
                )
            ):
                cell = QTableWidgetItem(text)
                if c == 5:
                    cell.setToolTip(VEND_STATES.get(x.state, x.state).replace("\n", " · "))
                t.setItem(r, c, cell)
            if x.state == "dispensed":
                give_back = big_button(say("tech_refund"), small=True)
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
        button.setText(say("tech_refund_confirm"))

        def disarm() -> None:
            button.setProperty("armed", False)
            button.setText(say("tech_refund"))

        QTimer.singleShot(4000, button, disarm)

    def show_in_doubt(self, rows: Sequence[InDoubt]) -> None:
        t = self.in_doubt
        t.setRowCount(len(rows))
        for r, x in enumerate(rows):
            cells = (
                _when(x.at),
                str(x.lane),
                f"{x.volunteer_name} ({x.volunteer_id})",
                x.item_name,
                str(x.amount),
                x.board_said,
            )
            for c, text in enumerate(cells):
                t.setItem(r, c, QTableWidgetItem(text))
            dropped = big_button(say("tech_settle_dropped"), small=True)
            dropped.clicked.connect(lambda _=False, v=x.vend_id: self.in_doubt_settled.emit(v, True))
            not_dropped = big_button(say("tech_settle_not_dropped"), small=True)
            not_dropped.clicked.connect(lambda _=False, v=x.vend_id: self.in_doubt_settled.emit(v, False))
            t.setCellWidget(r, 6, dropped)
            t.setCellWidget(r, 7, not_dropped)
        self.tabs.setTabText(4, say("tech_in_doubt", n=len(rows)))

    def show_audit(self, rows: Sequence[AuditEntry]) -> None:
        t = self.audit
        t.setRowCount(len(rows))
        for r, x in enumerate(rows):
            for c, text in enumerate(
                (_when(x.at), x.actor, x.action, x.target, x.before or "", x.after or "")
            ):
                t.setItem(r, c, QTableWidgetItem(text))
