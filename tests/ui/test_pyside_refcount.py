"""Guard against a PySide6 build that drops a reference to None on void calls.

PySide6 6.12.0 on Python 3.11 returns None from every void method without a new
reference; a kiosk that runs for months would crash when None's count reaches zero.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_alive(qtbot: Any) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("益币")
    assert before - sys.getrefcount(None) < 50
