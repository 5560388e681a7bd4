"""Fonts, colours and item pictures.

The shipped Noto Sans CJK SC subset is registered at start, so Chinese renders on a
machine with no system fonts. Sizes are large for a touch screen read at arm's length
by people with poor eyesight.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from ..assets import ASSETS, FAMILY, FONT_FILES, FONTS
from ..core.catalog import Item

PRIMARY = "#c8102e"  # time bank red
ACCENT = "#f5a623"
INK = "#222222"
MUTED = "#777777"
PAPER = "#fbf7f2"
OK = "#1f8a4c"
WARN = "#b35c00"
ERROR = "#a3001b"  # a technician's unsaved change: dark red on paper, not faint grey

# Labels take a font and a colour, not a style sheet: an application-wide style sheet
# makes every widget paint through QStyleSheetStyle, which doubled the time to paint a
# screen. Only the few widgets that need borders and rounded corners carry a sheet.
LABELS: dict[str, tuple[int, bool, str]] = {
    "Body": (24, False, INK),
    "HeaderTitle": (28, True, "white"),
    "Title": (52, True, PRIMARY),
    "Subtitle": (26, False, MUTED),
    "Balance": (44, True, OK),
    "Section": (28, True, INK),
    "Big": (48, True, INK),
    "LineStatus": (24, True, INK),
    "Done": (24, True, OK),
    "Error": (24, True, ERROR),
}

_BUTTON = "QPushButton {{ {body} }} QPushButton:pressed {{ background: #eeeeee; }}"
SHEETS: dict[str, str] = {
    "Button": _BUTTON.format(
        body="font-size: 28px; border-radius: 16px; padding: 14px 28px; min-height: 64px;"
        " background: white; border: 2px solid #d7cfc4; color: #222222;"
    ),
    "Primary": _BUTTON.format(
        body=f"font-size: 28px; border-radius: 16px; padding: 14px 28px; min-height: 64px;"
        f" background: {PRIMARY}; color: white; border: none; font-weight: bold;"
    )
    + " QPushButton:disabled { background: #d9a3ab; }",
    "Small": _BUTTON.format(
        body="font-size: 20px; min-height: 40px; padding: 4px 12px; border-radius: 10px;"
        " background: white; border: 2px solid #d7cfc4; color: #222222;"
    ),
    "Key": _BUTTON.format(
        body="font-size: 36px; min-width: 120px; min-height: 72px; padding: 4px; border-radius: 16px;"
        " background: white; border: 2px solid #d7cfc4; color: #222222;"
    ),
    "LangButton": _BUTTON.format(
        body=f"background: white; color: {PRIMARY}; border-radius: 12px; padding: 8px 20px;"
        " font-size: 22px; min-height: 48px; border: none;"
    ),
    "Notice": f"QLabel {{ background: #fff1d6; color: {WARN}; border: 3px solid {ACCENT};"
    " border-radius: 16px; padding: 18px; font-size: 28px; font-weight: bold; }",
    # black on amber (12:1): a training kiosk must never be mistaken for a live one
    "TrainingMark": "QLabel { background: #ffd23f; color: #111111; border-radius: 10px;"
    " padding: 8px 16px; font-size: 22px; font-weight: bold; }",
    "CartBar": "QFrame#CartBar { background: white; border-top: 2px solid #e6ded4; }",
    "Line": "QFrame#Line { background: white; border-radius: 14px; }",
    "Progress": "QProgressBar { border: none; background: #eeeeee; border-radius: 8px; }"
    f" QProgressBar::chunk {{ background: {OK}; border-radius: 8px; }}",
    "Scroll": "QScrollBar:vertical { width: 16px; background: #efe9e1; border: none; margin: 0; }"
    " QScrollBar::handle:vertical { background: #c9bfb2; border-radius: 8px; min-height: 60px; }"
    " QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical { height: 0; border: none; }"
    " QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical { background: none; }",
    "Tech": """
        QTableWidget { font-size: 22px; background: white; }
        QHeaderView::section { font-size: 20px; padding: 6px; }
        QTabBar::tab { font-size: 26px; padding: 14px 30px; min-height: 48px; }
        QSpinBox, QLineEdit, QComboBox { font-size: 22px; min-height: 44px; }
    """,
}


def font(pixels: int, bold: bool = False) -> QFont:
    f = QFont(FAMILY)
    f.setPixelSize(pixels)
    f.setBold(bold)
    return f


def apply(widget: QWidget, name: str) -> None:
    """Give ``widget`` the look called ``name`` (see ``LABELS`` and ``SHEETS``)."""
    widget.setObjectName(name)
    if name in LABELS:
        pixels, bold, colour = LABELS[name]
        widget.setFont(font(pixels, bold))
        palette = widget.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
        widget.setPalette(palette)
    elif name in SHEETS:
        widget.setStyleSheet(SHEETS[name])
    else:
        raise KeyError(f"no style called {name}")


def fill(widget: QWidget, colour: str) -> None:
    """Paint ``widget``'s background in one flat colour."""
    widget.setAutoFillBackground(True)
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(colour))
    widget.setPalette(palette)


def install(app: QApplication) -> None:
    """Register the shipped CJK font and the kiosk's style on ``app``."""
    families: list[str] = []
    for name in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(FONTS / name))
        if font_id < 0:
            raise RuntimeError(f"cannot load the shipped font {name}")
        families += QFontDatabase.applicationFontFamilies(font_id)
    base = QFont(families[0] if families else FAMILY)
    base.setPixelSize(24)
    base.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(base)
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(PAPER))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(INK))
    app.setPalette(palette)


def _colour_for(item: Item) -> QColor:
    digest = hashlib.sha1(item.name_zh.encode()).digest()
    return QColor.fromHsv(digest[0] * 360 // 256, 140, 200)


def item_picture(item: Item, size: int) -> QPixmap:
    """The item's image from ``assets/items``, or a drawn badge with its first character."""
    if item.image:
        path = Path(item.image)
        path = path if path.is_absolute() else ASSETS / "items" / path
        pixmap = QPixmap(str(path))
        if not pixmap.isNull():
            return pixmap.scaled(
                size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(_colour_for(item))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
    p.setFont(font(int(size * 0.5), bold=True))
    p.setPen(QColor("white"))
    p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, item.name_zh[:1])
    p.end()
    return QPixmap.fromImage(image)
