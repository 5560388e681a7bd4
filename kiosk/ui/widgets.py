"""Small touch widgets: item tiles and the grid that lays them out for any screen."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Offer
from ..core.honour import HonourRoll, hours
from ..core.messages import say
from .theme import INK, MUTED, PRIMARY, apply, font, item_picture

TILE_W = 230


class ItemTile(QWidget):
    """One item: picture, name, price, and why it cannot be taken (if it cannot).

    Painted in one ``paintEvent`` rather than built from styled child labels: a screen of
    tiles then paints in a fraction of the time, which keeps scan-to-screen within a frame.
    """

    tapped = Signal(int)
    removed = Signal(int)

    PICTURE = 110

    def __init__(self, offer: Offer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offer = offer
        self.setMinimumSize(TILE_W, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._picture = item_picture(offer.item, self.PICTURE)
        self.name_text = ""
        self.price_text = ""
        self.tag_text: str | None = None
        self.in_cart = 0
        self.remove = QPushButton(self)
        apply(self.remove, "Small")
        self.remove.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove.clicked.connect(lambda: self.removed.emit(self.offer.item.id))
        self.remove.hide()
        self._cache: QPixmap | None = None
        self._cache_key: object = None
        self._fonts = {"name": font(26, bold=True), "price": font(26, bold=True), "pill": font(20)}

    def show_state(self, lang: str, tag: str | None, in_cart: int, removable: bool) -> None:
        """Paint the tile in ``lang``; ``tag`` is the catalogue sentence of why it can't be picked."""
        item = self.offer.item
        state = (
            item.name(lang),
            say("{n} 益币", lang, n=item.price),
            None if tag is None else say(tag, lang),
            in_cart,
        )
        show_remove = removable and in_cart > 0
        self.remove.setText(say("移除", lang))
        if show_remove != self.remove.isVisible():
            self.remove.setVisible(show_remove)
            self._place_remove()
        if state != (self.name_text, self.price_text, self.tag_text, self.in_cart):
            self.name_text, self.price_text, self.tag_text, self.in_cart = state
            self.update()

    def _place_remove(self) -> None:
        hint = self.remove.sizeHint()
        self.remove.setGeometry(self.width() // 2 + 6, self.height() - 62, max(hint.width(), 84), 46)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_remove()

    def paintEvent(self, event: QPaintEvent) -> None:
        # A screen switch repaints each tile several times: draw it once per state.
        key = (
            self.size(),
            self.name_text,
            self.price_text,
            self.tag_text,
            self.in_cart,
            self.remove.isVisible(),
            self.devicePixelRatioF(),
        )
        if key != self._cache_key or self._cache is None:
            self._cache = self._render()
            self._cache_key = key
        p = QPainter(self)
        p.drawPixmap(0, 0, self._cache)
        p.end()

    def _render(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.setPen(QPen(QColor("#e6ded4"), 2))
        p.setBrush(QColor("#f0eeeb" if self.tag_text else "white"))
        p.drawRoundedRect(QRectF(1, 1, w - 2, h - 2), 18, 18)
        p.drawPixmap((w - self.PICTURE) // 2, 14, self._picture)
        p.setPen(QColor(INK))
        p.setFont(self._fonts["name"])
        p.drawText(QRectF(8, 132, w - 16, 40), Qt.AlignmentFlag.AlignCenter, self.name_text)
        p.setPen(QColor(PRIMARY))
        p.setFont(self._fonts["price"])
        p.drawText(QRectF(8, 174, w - 16, 40), Qt.AlignmentFlag.AlignCenter, self.price_text)
        p.setFont(self._fonts["pill"])
        if self.in_cart:
            right = w // 2 - 6 if self.remove.isVisible() else w // 2 + 40
            self._pill(p, QRectF(right - 80, h - 58, 80, 38), PRIMARY, f"× {self.in_cart}")
        elif self.tag_text:
            width = p.fontMetrics().horizontalAdvance(self.tag_text) + 28
            self._pill(p, QRectF((w - width) / 2, h - 58, width, 38), MUTED, self.tag_text)
        p.end()
        return pixmap

    @staticmethod
    def _pill(p: QPainter, rect: QRectF, colour: str, text: str) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(colour))
        p.drawRoundedRect(rect, 12, 12)
        p.setPen(QColor("white"))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed_at = event.globalPosition()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        # a tap ends where it began: a finger that dragged the grid (which carries the tile
        # along) has moved on the screen, though not on the tile
        moved = event.globalPosition() - getattr(self, "_pressed_at", event.globalPosition())
        still = moved.manhattanLength() < QGuiApplication.styleHints().startDragDistance()
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and still and inside:
            self.tapped.emit(self.offer.item.id)
        super().mouseReleaseEvent(event)


class ItemGrid(QScrollArea):
    """Tiles in as many columns as the width allows (portrait or landscape)."""

    tapped = Signal(int)
    removed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        apply(self.verticalScrollBar(), "Scroll")
        finger_scroll(self)
        self._inner = QWidget()
        self._grid = QGridLayout(self._inner)
        self._grid.setSpacing(16)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.setWidget(self._inner)
        self.tiles: dict[int, ItemTile] = {}
        self._columns = 0

    def set_offers(self, offers: Sequence[Offer]) -> None:
        if [t.offer for t in self.tiles.values()] == list(offers):
            return
        for tile in self.tiles.values():
            self._grid.removeWidget(tile)
            tile.setParent(None)
            tile.deleteLater()
        self.tiles = {}
        for offer in offers:
            tile = ItemTile(offer, self._inner)
            tile.tapped.connect(self.tapped)
            tile.removed.connect(self.removed)
            self.tiles[offer.item.id] = tile
        self._columns = 0
        self._relayout()

    def _relayout(self) -> None:
        columns = max(2, min(5, self.viewport().width() // (TILE_W + 16)))
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles.values():
            self._grid.removeWidget(tile)
        for i, tile in enumerate(self.tiles.values()):
            self._grid.addWidget(tile, i // columns, i % columns)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()


def finger_scroll(area: QAbstractScrollArea) -> None:
    """A list a finger drags: kinetic scrolling (a drag scrolls and never taps what it started on).

    Touch, not the mouse: a touchscreen's drags scroll, while a mouse (a technician's, or
    a test's) clicks as it always did and scrolls with the wheel and the scrollbar.
    """
    if isinstance(area, QAbstractItemView):
        area.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    area.viewport().setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.TouchGesture)


def big_button(text: str, primary: bool = False, small: bool = False) -> QPushButton:
    button = QPushButton(text)
    apply(button, "Primary" if primary else "Small" if small else "Button")
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


def label(text: str = "", name: str | None = None, *, wrap: bool = True, center: bool = False) -> QLabel:
    widget = QLabel(text)
    apply(widget, name or "Body")
    widget.setWordWrap(wrap)
    if center:
        widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return widget


HONOUR_ROWS = 10


class HonourPanel(QFrame):
    """光荣榜: the community's top ten this month (and the street's, or all time, beside it),
    masked names and hours only; a thank-you, not a ranking of anyone's balance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        apply(self, "Line")
        # it takes the room the items had and never asks for more: the screen does not grow
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 12, 28, 12)
        outer.setSpacing(4)
        self.title = label(name="Section", center=True)
        outer.addWidget(self.title)
        row = QHBoxLayout()
        outer.addLayout(row, 1)
        self.columns: list[tuple[QLabel, list[QLabel]]] = []
        for _ in range(2):
            box = QVBoxLayout()
            box.setSpacing(0)
            heading = label(name="Subtitle", center=True)
            box.addWidget(heading)
            lines = [label(name="Body", wrap=False) for _ in range(HONOUR_ROWS)]
            for line in lines:
                box.addWidget(line)
            box.addStretch(1)
            row.addLayout(box, 1)
            self.columns.append((heading, lines))

    def show_roll(self, roll: HonourRoll, lang: str) -> None:
        self.title.setText(say("光荣榜 · 感谢每一位志愿者", lang))
        month = f"{roll.month // 100}-{roll.month % 100:02d}"
        if roll.community:
            first = say("本社区 {month} 服务时长", lang, month=month)
            shown = [(first, roll.community_month)]
        else:
            first = say("本街道 {month} 服务时长", lang, month=month)
            shown = [(first, roll.street_month)]
        if roll.community and roll.street:  # beside it, the street's month
            street = say("本街道 {month} 服务时长", lang, month=month)
            shown.append((street, roll.street_month))
        elif roll.community:  # or the same place's all time
            shown.append((say("本社区累计服务时长", lang), roll.community_all))
        else:
            shown.append((say("本街道累计服务时长", lang), roll.street_all))
        for (heading, lines), (caption, ranked) in zip(self.columns, shown, strict=True):
            heading.setText(caption)
            for i, line in enumerate(lines):
                if i < len(ranked):
                    name, tenths = ranked[i]
                    line.setText(
                        say("{n}. {name}　{hours} 小时", lang, n=i + 1, name=name, hours=hours(tenths))
                    )
                line.setVisible(i < len(ranked))
