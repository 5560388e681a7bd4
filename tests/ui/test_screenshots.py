"""Every screen rendered offscreen to PNG, with the shipped CJK font doing the drawing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics, QImage

from kiosk.demo_walkthrough import walkthrough
from kiosk.ui.theme import FAMILY
from tests.helpers import make_app

EXPECTED = [
    "01-idle.png",
    "01b-honour-roll.png",
    "02-catalog.png",
    "03-choosing.png",
    "03-choosing-portrait.png",
    "04-confirm.png",
    "05-dispensing.png",
    "06-result.png",
    "07-refusal-expired.png",
    "07b-card-pin.png",
    "08-tech-lanes.png",
    "08b-tech-recent.png",
    "09-simulator.png",
]


def test_the_walkthrough_renders_every_screen(qtbot: Any, tmp_path: Path) -> None:
    app, _, _ = make_app(tmp_path / "db")
    try:
        paths = list(walkthrough(app, tmp_path / "shots"))
    finally:
        app.close()
    assert [p.name for p in paths] == EXPECTED
    for path in paths:
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= (500 if "simulator" in path.name else 1000)
        # a rendered screen has many colours (text, tiles), not a blank fill
        colours = {
            image.pixel(x, y) for x in range(0, image.width(), 17) for y in range(0, image.height(), 17)
        }
        assert len(colours) > 20, path.name
    portrait = QImage(str(tmp_path / "shots" / "03-choosing-portrait.png"))
    assert (portrait.width(), portrait.height()) == (1080, 1920)
    landscape = QImage(str(tmp_path / "shots" / "02-catalog.png"))
    assert (landscape.width(), landscape.height()) == (1280, 800)


def test_the_shipped_font_has_the_glyphs_the_screens_use(qtbot: Any, tmp_path: Path) -> None:
    app, _, _ = make_app(tmp_path)
    try:
        assert FAMILY in QFontDatabase.families()
        assert app.qt.font().family() == FAMILY
        metrics = QFontMetrics(QFont(FAMILY))
        from scripts.catalogue import mo_path, translations

        # every sentence of the catalogue, in Chinese (the ids) and in English
        sentences = translations(mo_path("en").read_bytes())
        text = "".join(msgid + en for (_, msgid), en in sentences.items())
        text += "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
        missing = {ch for ch in text if ch.strip() and not metrics.inFontUcs4(ord(ch))}
        assert missing == set()
    finally:
        app.close()
