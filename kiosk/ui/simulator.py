"""The hardware simulator window of demo mode: the cabinet's lanes and the demo codes.

Each lane shows its physical stock and turns while it dispenses; switches make a lane
empty or jammed. The codes panel draws demo codes as QR images; clicking one signs a
fresh code (as the volunteer app does every minute) and hands it to the scanner path,
exactly as if it had been scanned.
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

from ..demo import DEMO_PANEL, DemoCode, DemoCodes
from .qr import qr_pixmap
from .scanner import HidScanner
from .theme import PAPER, apply, fill
from .widgets import label

SPIN = "◐◓◑◒"


class LaneRow(QFrame):
    def __init__(self, lane: SimLane, item_name: str, machine: Cabinet) -> None:
        super().__init__()
        apply(self, "Line")
        self.number = lane.number
        self.machine = machine
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        self.motor = QLabel("●")
        self.motor.setFixedWidth(36)
        self.name = label(f"{lane.number:>2} · {item_name}", wrap=False)
        self.stock = label(wrap=False)
        self.turns = label(wrap=False)
        self.empty = QCheckBox("空 empty")
        self.jam = QCheckBox("卡住 jam")
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
        self.show_lane(lane)

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
        self.stock.setText(f"实物 {lane.stock}")
        self.turns.setText(f"转 {lane.turns}")
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
        item_names: Mapping[int, str],
        codes: DemoCodes | None,
        scanner: HidScanner,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        fill(self, PAPER)
        self.setWindowTitle("硬件模拟器 · Hardware simulator")
        self.machine = machine
        self.codes = codes
        self.scanner = scanner
        self.clock = clock
        self.setStyleSheet(
            "QWidget { font-size: 17px; } QPushButton { min-height: 36px; padding: 4px; font-size: 16px; }"
        )
        box = QVBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(label("货道（模拟机柜）Lanes", "Section"))
        self.rows: dict[int, LaneRow] = {}
        for lane in machine.lane_views():
            row = LaneRow(lane, item_names.get(lane.number, "—"), machine)
            self.rows[lane.number] = row
            left.addWidget(row)
        box.addLayout(left)
        box.addWidget(label("扫码器：粘贴码内容后回车 Scanner: paste a code, press Enter", "Section"))
        self.paste = QLineEdit()
        self.paste.setPlaceholderText("eyJ…  (kiosk-hub code issue V0001)")
        self.paste.returnPressed.connect(self._scan_pasted)
        box.addWidget(self.paste)
        if codes is not None:
            right = QVBoxLayout()
            right.addWidget(label("演示二维码：点击即扫码 Demo codes: click to scan", "Section"))
            grid = QGridLayout()
            self.code_buttons: list[QPushButton] = []
            self.qr_labels: list[QLabel] = []
            for i, entry in enumerate(DEMO_PANEL):
                cell = QVBoxLayout()
                qr = QLabel()
                qr.setPixmap(qr_pixmap(codes.make(entry, now=clock()), 120))
                qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
                button = QPushButton(f"{entry.label_zh}\n{entry.label_en}")
                button.clicked.connect(lambda _=False, e=entry, q=qr: self.scan(e, q))
                cell.addWidget(qr)
                cell.addWidget(button)
                grid.addLayout(cell, i // 3, i % 3)
                self.code_buttons.append(button)
                self.qr_labels.append(qr)
            right.addLayout(grid)
            box.addLayout(right)
        box.addStretch(1)
        self._spinner = QTimer(self)
        self._spinner.setInterval(120)
        self._spinner.timeout.connect(self._spin)
        self._spinner.start()

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
