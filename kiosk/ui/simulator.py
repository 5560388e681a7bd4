"""The hardware simulator window of demo mode: the cabinet's lanes and the demo codes.

Each lane shows its physical stock and turns while it dispenses; switches make a lane
empty or jammed. The codes panel draws demo codes as QR images; clicking one signs a
fresh code (as the volunteer app does every minute) and hands it to the scanner path,
exactly as if it had been scanned. Its words follow the kiosk's language button
(``show_language``), as a trainer beside a volunteer reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drivers.simulated import Cabinet, SimLane

from ..core.catalog import Item
from ..core.messages import SOURCE, Lang, say
from ..demo import DEMO_PANEL, DemoCode, DemoCodes
from .qr import qr_pixmap
from .scanner import HidScanner
from .theme import PAPER, apply, fill
from .widgets import label

SPIN = "◐◓◑◒"


class LaneRow(QFrame):
    def __init__(self, lane: SimLane, item: Item | None, machine: Cabinet, lang: Lang = SOURCE) -> None:
        super().__init__()
        apply(self, "Line")
        self.number = lane.number
        self.item = item
        self.machine = machine
        self.lang = lang
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        self.motor = QLabel("●")
        self.motor.setFixedWidth(36)
        self.name = label(wrap=False)
        self.stock = label(wrap=False)
        self.turns = label(wrap=False)
        self.empty = QCheckBox()
        self.jam = QCheckBox()
        self.empty.toggled.connect(self._on_empty_toggled)
        self.jam.toggled.connect(lambda on: self.machine.set_jammed(self.number, on))
        row.addWidget(self.motor)
        row.addWidget(self.name)
        row.addStretch(1)
        for widget in (self.stock, self.turns, self.empty, self.jam):
            row.addWidget(widget)
        self._saved_stock = lane.stock
        self._phase = 0
        self._shown: SimLane | None = None
        self.show_language(lang)
        self.show_lane(lane)

    def show_language(self, lang: Lang) -> None:
        self.lang = lang
        name = "—" if self.item is None else self.item.name(lang)
        self.name.setText(f"{self.number:>2} · {name}")
        self.empty.setText(say("空", lang))
        self.jam.setText(say("卡住", lang))
        if self._shown is not None:
            shown, self._shown = self._shown, None
            self.show_lane(shown)

    def _on_empty_toggled(self, on: bool) -> None:
        lane = self.machine.lane(self.number)
        if on:
            self._saved_stock = lane.stock
            self.machine.set_stock(self.number, 0)
        else:
            self.machine.set_stock(self.number, self._saved_stock)

    def show_lane(self, lane: SimLane) -> None:
        if lane == self._shown:
            return
        self._shown = lane
        self.stock.setText(say("实物 {n}", self.lang, n=lane.stock))
        self.turns.setText(say("转 {n}", self.lang, n=lane.turns))
        self.motor.setStyleSheet(
            "color: #1f8a4c; font-size: 28px;" if lane.turning else "color: #bbb; font-size: 28px;"
        )
        if not lane.turning:
            self.motor.setText("●")

    def spin(self) -> None:
        self._phase = (self._phase + 1) % len(SPIN)
        self.motor.setText(SPIN[self._phase])


class SimulatorWindow(QWidget):
    code_clicked = Signal(str)

    def __init__(
        self,
        machine: Cabinet,
        items: Mapping[int, Item],
        codes: DemoCodes | None,
        scanner: HidScanner,
        clock: Callable[[], float] = time.time,
        lang: Lang = SOURCE,
    ) -> None:
        """``items`` is the item each lane holds, by lane number."""
        super().__init__()
        fill(self, PAPER)
        self.machine = machine
        self.codes = codes
        self.scanner = scanner
        self.clock = clock
        self.setStyleSheet(
            "QWidget { font-size: 17px; } QPushButton { min-height: 36px; padding: 4px; font-size: 16px; }"
        )
        box = QVBoxLayout(self)
        left = QVBoxLayout()
        self.lanes_title = label(name="Section")
        left.addWidget(self.lanes_title)
        self.rows: dict[int, LaneRow] = {}
        for lane in machine.lane_views():
            row = LaneRow(lane, items.get(lane.number), machine, lang)
            self.rows[lane.number] = row
            left.addWidget(row)
        box.addLayout(left)
        self.scanner_title = label(name="Section")
        box.addWidget(self.scanner_title)
        self.paste = QLineEdit()
        self.paste.returnPressed.connect(self._scan_pasted)
        box.addWidget(self.paste)
        self.codes_title = label(name="Section")
        self.code_buttons: list[QPushButton] = []
        self.qr_labels: list[QLabel] = []
        if codes is not None:
            right = QVBoxLayout()
            right.addWidget(self.codes_title)
            grid = QGridLayout()
            for i, entry in enumerate(DEMO_PANEL):
                cell = QVBoxLayout()
                qr = QLabel()
                qr.setPixmap(qr_pixmap(codes.make(entry, now=clock()), 120))
                qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
                button = QPushButton()
                button.clicked.connect(lambda _=False, e=entry, q=qr: self.scan(e, q))
                cell.addWidget(qr)
                cell.addWidget(button)
                grid.addLayout(cell, i // 3, i % 3)
                self.code_buttons.append(button)
                self.qr_labels.append(qr)
            right.addLayout(grid)
            box.addLayout(right)
        box.addStretch(1)
        self.show_language(lang)
        self._spinner = QTimer(self)
        self._spinner.setInterval(120)
        self._spinner.timeout.connect(self._spin)
        self._spinner.start()

    def show_language(self, lang: Lang) -> None:
        """Every word of the window in ``lang`` (the kiosk's language button moves it)."""
        self.setWindowTitle(say("硬件模拟器", lang))
        self.lanes_title.setText(say("货道（模拟机柜）", lang))
        self.scanner_title.setText(say("扫码器：粘贴码内容后回车", lang))
        self.paste.setPlaceholderText(say("在这里粘贴二维码的内容", lang))
        self.codes_title.setText(say("演示二维码：点击即扫码", lang))
        for button, entry in zip(self.code_buttons, DEMO_PANEL, strict=False):
            button.setText(entry.text(lang))
        for row in self.rows.values():
            row.show_language(lang)

    def scan(self, entry: DemoCode, qr: QLabel | None = None) -> str:
        assert self.codes is not None
        code = self.codes.make(entry, now=self.clock())
        if qr is not None:
            qr.setPixmap(qr_pixmap(code, 120))
        self.code_clicked.emit(code)
        self.scanner.inject(code)
        return code

    def _scan_pasted(self) -> None:
        """A code from elsewhere (the hub's ``code issue``, a printed card) as the scanner reads it."""
        code = self.paste.text().strip()
        self.paste.clear()
        if code:
            self.code_clicked.emit(code)
            self.scanner.inject(code)

    def _spin(self) -> None:
        """Poll the cabinet (it may live behind a pty): stock, turn counts, spinning motors."""
        for lane in self.machine.lane_views():
            row = self.rows[lane.number]
            row.show_lane(lane)
            if lane.turning:
                row.spin()

    def shutdown(self) -> None:
        self._spinner.stop()
