"""Fonts, colours and item pictures.

The shipped Noto Sans CJK SC subset is registered at start, so Chinese renders on a
machine with no system fonts. Sizes are large for a touch screen read at arm's length
by people with poor eyesight.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from ..core.catalog import Item

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FONT_FILES = ("NotoSansSC-Kiosk-Regular.otf", "NotoSansSC-Kiosk-Bold.otf")
FAMILY = "Noto Sans CJK SC"

PRIMARY = "#c8102e"  # time bank red
ACCENT = "#f5a623"
INK = "#222222"
MUTED = "#777777"
PAPER = "#fbf7f2"
OK = "#1f8a4c"
WARN = "#b35c00"

STYLE = f"""
QWidget {{ color: {INK}; font-size: 24px; }}
#Kiosk, #Screen {{ background: {PAPER}; }}
#Header {{ background: {PRIMARY}; }}
#Header QLabel {{ color: white; font-size: 28px; font-weight: bold; }}
#LangButton {{ background: white; color: {PRIMARY}; border-radius: 12px;
               padding: 8px 20px; font-size: 22px; min-height: 48px; }}
#Notice {{ background: #fff1d6; color: {WARN}; border: 3px solid {ACCENT};
           border-radius: 16px; padding: 18px; font-size: 28px; font-weight: bold; }}
#Title {{ font-size: 52px; font-weight: bold; color: {PRIMARY}; }}
#Subtitle {{ font-size: 26px; color: {MUTED}; }}
#Balance {{ font-size: 44px; font-weight: bold; color: {OK}; }}
#Section {{ font-size: 28px; font-weight: bold; }}
#Tile {{ background: white; border: 2px solid #e6ded4; border-radius: 18px; }}
#Tile[state="unavailable"] {{ background: #f0eeeb; }}
#TileName {{ font-size: 26px; font-weight: bold; }}
#TilePrice {{ font-size: 26px; color: {PRIMARY}; font-weight: bold; }}
#TileTag {{ font-size: 20px; color: white; background: {MUTED}; border-radius: 8px; padding: 2px 10px; }}
#TileCount {{ font-size: 22px; color: white; background: {PRIMARY}; border-radius: 14px; padding: 2px 12px; }}
QPushButton {{ font-size: 28px; border-radius: 16px; padding: 14px 28px; min-height: 64px;
               background: white; border: 2px solid #d7cfc4; }}
QPushButton:pressed {{ background: #eee; }}
QPushButton#Primary {{ background: {PRIMARY}; color: white; border: none; font-weight: bold; }}
QPushButton#Primary:disabled {{ background: #d9a3ab; }}
QPushButton#Key {{ font-size: 36px; min-width: 120px; min-height: 72px; padding: 4px; }}
QPushButton#Small {{ font-size: 20px; min-height: 40px; padding: 4px 12px; border-radius: 10px; }}
#CartBar {{ background: white; border-top: 2px solid #e6ded4; }}
#Line {{ background: white; border-radius: 14px; }}
#LineStatus {{ font-size: 24px; font-weight: bold; }}
#Big {{ font-size: 48px; font-weight: bold; }}
QTableWidget {{ font-size: 22px; background: white; }}
QHeaderView::section {{ font-size: 20px; padding: 6px; }}
QTabBar::tab {{ font-size: 26px; padding: 14px 30px; min-height: 48px; }}
QSpinBox, QLineEdit, QComboBox {{ font-size: 22px; min-height: 44px; }}
QScrollBar:vertical {{ width: 16px; background: #efe9e1; border: none; margin: 0; }}
QScrollBar::handle:vertical {{ background: #c9bfb2; border-radius: 8px; min-height: 60px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; border: none; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: none; }}
QProgressBar {{ border: none; background: #eee; border-radius: 8px; height: 16px; text-align: center; }}
QProgressBar::chunk {{ background: {OK}; border-radius: 8px; }}
"""


def install(app: QApplication) -> None:
    """Register the shipped CJK font and the kiosk's style on ``app``."""
    families: list[str] = []
    for name in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(ASSETS / "fonts" / name))
        if font_id < 0:
            raise RuntimeError(f"cannot load the shipped font {name}")
        families += QFontDatabase.applicationFontFamilies(font_id)
    font = QFont(families[0] if families else FAMILY)
    font.setPixelSize(24)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    app.setStyleSheet(STYLE)


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
    font = QFont(FAMILY)
    font.setPixelSize(int(size * 0.5))
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, item.name_zh[:1])
    p.end()
    return QPixmap.fromImage(image)
