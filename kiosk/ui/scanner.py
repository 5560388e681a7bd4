"""The USB-HID scanner: keystrokes captured wherever focus is, scans told from typing.

An application-wide event filter sees every key press. Printable keys feed the core's
:class:`~kiosk.core.scan.ScanAssembler` with their arrival times; Enter ends a burst,
and a fast burst is a scan. Key presses that belong to a scan are swallowed unless a
text field has focus (a technician typing a price), where they pass through. The same
filter reports any press on the screen as ``touched`` (one Python filter on every
event is cheaper than two). The same code within 2 s is dropped by :class:`~kiosk.core.scan.DuplicateFilter`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QTextEdit

from ..core.scan import DuplicateFilter, ScanAssembler

_ENTER = {0x01000004, 0x01000005}  # Qt.Key_Return, Qt.Key_Enter
_TOUCH = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}


class HidScanner(QObject):
    code_scanned = Signal(str)
    touched = Signal()
    """Any press on the screen (restarts the inactivity timer)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self.assembler = ScanAssembler()
        self.duplicates = DuplicateFilter()

    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def inject(self, code: str) -> None:
        """A code from another source (the serial scanner, the demo panel)."""
        if self.duplicates.admit(code, self._clock()):
            self.code_scanned.emit(code)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _TOUCH:
            self.touched.emit()
            return False
        if kind != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        now = self._clock()
        text = event.text()
        if event.key() in _ENTER:
            code = self.assembler.enter(now)
            if code is not None:
                self.inject(code)
                return not self._typing_field()
            return False
        if len(text) == 1 and text.isprintable():
            self.assembler.key(text, now)
            return not self._typing_field()
        return False

    @staticmethod
    def _typing_field() -> bool:
        return isinstance(QApplication.focusWidget(), QLineEdit | QTextEdit | QAbstractSpinBox)


class SerialScannerBridge(QObject):
    """Carries codes and states from the serial scanner's thread to the GUI thread."""

    code_read = Signal(str)
    state_changed = Signal(str)

    def __init__(self, url: str, wedge: HidScanner) -> None:
        super().__init__()
        from drivers.scanner import SerialScanner

        self.state = "connecting"
        self.code_read.connect(wedge.inject)  # queued: emitted from the reader thread
        self.state_changed.connect(self._on_state)
        self.device = SerialScanner(url, self.code_read.emit, on_state=self.state_changed.emit)

    def _on_state(self, state: str) -> None:
        self.state = state

    def close(self) -> None:
        self.device.close()
