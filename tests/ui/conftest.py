from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from kiosk.app import KioskApp
from kiosk.core.session import Step
from kiosk.demo import DemoCode
from tests.helpers import FakeClock, make_app


class Driver:
    """Drives the real screens as a volunteer would: scanner keystrokes and taps."""

    def __init__(self, app: KioskApp, codes: Any, clock: FakeClock, qtbot: Any) -> None:
        self.app, self.codes, self.clock, self.qtbot = app, codes, clock, qtbot
        self.w = app.window

    def code(self, make: str, subject: str = "V0001") -> str:
        return str(self.codes.make(DemoCode("", make, subject), now=self.clock()))

    def scan(self, code: str) -> None:
        """Type the code and Enter as a USB-HID scanner does, and wait for the answer."""
        with self.qtbot.waitSignal(self.app.controller.scan_handled, timeout=5000):
            self.qtbot.keyClicks(self.w, code)
            self.qtbot.keyClick(self.w, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: self.app.background.idle, timeout=5000)

    def item_id(self, name_en: str) -> int:
        tiles = self.w.catalog.grid.tiles
        return next(i for i, t in tiles.items() if t.offer.item.name_en == name_en)

    def tap_item(self, name_en: str) -> None:
        tile = self.w.catalog.grid.tiles[self.item_id(name_en)]
        self.qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)

    def tap(self, button: Any) -> None:
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def wait_step(self, step: Step, timeout: int = 10000) -> None:
        self.qtbot.waitUntil(
            lambda: self.app.session.step is step and self.app.background.idle, timeout=timeout
        )

    @property
    def notice(self) -> str:
        return self.w.notice.text() if self.w.notice.isVisible() else ""

    def buy(self, *names: str) -> None:
        for name in names:
            self.tap_item(name)
        self.tap(self.w.catalog.next)
        self.wait_step(Step.CONFIRMING)
        self.tap(self.w.confirm.confirm)
        self.wait_step(Step.RESULT)


@pytest.fixture
def kiosk(qtbot: Any, tmp_path: Path) -> Iterator[Driver]:
    app, codes, clock = make_app(tmp_path)
    app.window.resize(1280, 800)
    app.window.show()
    qtbot.waitUntil(lambda: app.background.idle and bool(app.session.offers), timeout=5000)
    yield Driver(app, codes, clock, qtbot)
    app.close()
