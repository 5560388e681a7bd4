"""Small touch widgets: item tiles and the grid that lays them out for any screen."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Offer
from ..core.messages import say
from .theme import item_picture

TILE_W = 230


class ItemTile(QFrame):
    """One item: picture, name, price, and why it cannot be taken (if it cannot)."""

    tapped = Signal(int)
    removed = Signal(int)

    def __init__(self, offer: Offer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Tile")
        self.offer = offer
        self.setMinimumSize(TILE_W, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(6)
        top = QHBoxLayout()
        self.picture = QLabel()
        self.picture.setPixmap(item_picture(offer.item, 110))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count = QLabel()
        self.count.setObjectName("TileCount")
        top.addStretch()
        top.addWidget(self.picture)
        top.addStretch()
        layout.addLayout(top)
        self.name = QLabel()
        self.name.setObjectName("TileName")
        self.name.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name.setWordWrap(True)
        self.price = QLabel()
        self.price.setObjectName("TilePrice")
        self.price.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tag = QLabel()
        self.tag.setObjectName("TileTag")
        self.tag.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.remove = QPushButton()
        self.remove.setObjectName("Small")
        self.remove.clicked.connect(lambda: self.removed.emit(self.offer.item.id))
        layout.addWidget(self.name)
        layout.addWidget(self.price)
        bottom = QHBoxLayout()
        bottom.addStretch()
        bottom.addWidget(self.tag)
        bottom.addWidget(self.count)
        bottom.addWidget(self.remove)
        bottom.addStretch()
        layout.addLayout(bottom)

    def show_state(self, lang: str, tag_key: str | None, in_cart: int, removable: bool) -> None:
        item = self.offer.item
        self.name.setText(item.name(lang))
        self.price.setText(say("price", lang, n=item.price))
        self.tag.setVisible(tag_key is not None)
        if tag_key is not None:
            self.tag.setText(say(tag_key, lang))
        self.setProperty("state", "unavailable" if tag_key else "ok")
        self.style().unpolish(self)
        self.style().polish(self)
        self.count.setVisible(in_cart > 0)
        self.count.setText(f"× {in_cart}")
        self.remove.setVisible(removable and in_cart > 0)
        self.remove.setText(say("remove", lang))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
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
        self._inner = QWidget()
        self._inner.setObjectName("Screen")
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


def big_button(text: str, primary: bool = False, small: bool = False) -> QPushButton:
    button = QPushButton(text)
    if primary:
        button.setObjectName("Primary")
    elif small:
        button.setObjectName("Small")
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


def label(text: str = "", name: str | None = None, *, wrap: bool = True, center: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    if center:
        widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return widget
