"""The kiosk's screens, one per step of the visit. Each shows a session; none decides.

A screen's ``show(session, lang)`` paints what the core's :class:`Session` holds; user
actions leave as signals (``picked``, ``confirmed`` …) for the controller. Screens keep
no state of the visit of their own.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ..core.messages import say
from ..core.rules import Refusal
from ..core.session import LineStatus, Session
from .theme import apply
from .widgets import ItemGrid, big_button, label

_TAG = {
    Refusal.SOLD_OUT: "sold_out_tag",
    Refusal.INSUFFICIENT_BALANCE: "unaffordable_tag",
    Refusal.DAILY_ITEM_CAP: "cap_tag",
    Refusal.OFFLINE_CAP: "offline_tag",
}


class Screen(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(32, 24, 32, 24)
        self.box.setSpacing(16)

    def show_session(self, session: Session, lang: str) -> None:
        raise NotImplementedError


class IdleScreen(Screen):
    """请扫描志愿者码, and what is on offer today."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title", center=True)
        self.hint = label(name="Subtitle", center=True)
        self.section = label(name="Section")
        self.grid = ItemGrid()
        self.box.addSpacing(24)
        self.box.addWidget(self.title)
        self.box.addWidget(self.hint)
        self.box.addSpacing(16)
        self.box.addWidget(self.section)
        self.box.addWidget(self.grid, 1)

    def show_session(self, session: Session, lang: str) -> None:
        self.title.setText(say("scan_prompt", lang))
        self.hint.setText(say("scan_hint", lang))
        self.section.setText(say("on_offer", lang))
        self.grid.set_offers(session.offers)
        for tile in self.grid.tiles.values():
            tag = "sold_out_tag" if tile.offer.sold_out else None
            tile.show_state(lang, tag, 0, removable=False)


class CatalogScreen(Screen):
    """Greeting, balance, the items with prices, and the cart."""

    picked = Signal(int)
    unpicked = Signal(int)
    reviewed = Signal()
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        top = QHBoxLayout()
        self.greeting = label(name="Section", wrap=False)
        self.balance_caption = label(name="Subtitle", wrap=False)
        self.balance = label(name="Balance", wrap=False)
        top.addWidget(self.greeting, 1)
        top.addWidget(self.balance_caption)
        top.addWidget(self.balance)
        self.box.addLayout(top)
        self.grid = ItemGrid()
        self.grid.tapped.connect(self.picked)
        self.grid.removed.connect(self.unpicked)
        self.box.addWidget(self.grid, 1)
        bar = QFrame()
        apply(bar, "CartBar")
        row = QHBoxLayout(bar)
        self.cart = label(name="Section")
        self.cancel = big_button("")
        self.next = big_button("", primary=True)
        self.cancel.clicked.connect(self.cancelled)
        self.next.clicked.connect(self.reviewed)
        row.addWidget(self.cart, 1)
        row.addWidget(self.cancel)
        row.addWidget(self.next)
        self.box.addWidget(bar)

    def show_session(self, session: Session, lang: str) -> None:
        volunteer = session.volunteer
        if volunteer is None:
            return
        self.greeting.setText(say("hello", lang, name=volunteer.masked_name))
        self.balance_caption.setText(say("balance", lang))
        self.balance.setText(str(volunteer.available - session.total))
        self.grid.set_offers(session.offers)
        in_cart = Counter(item.id for item in session.cart)
        for item_id, tile in self.grid.tiles.items():
            refusal = session.why_not(tile.offer)
            tile.show_state(lang, _TAG.get(refusal) if refusal else None, in_cart[item_id], True)
        if session.cart:
            self.cart.setText(say("cart", lang, n=len(session.cart), total=session.total))
        else:
            self.cart.setText(say("cart_empty", lang))
        self.cancel.setText(say("cancel", lang))
        self.next.setText(say("next", lang))
        self.next.setEnabled(bool(session.cart))


class ConfirmScreen(Screen):
    confirmed = Signal()
    backed = Signal()
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title", center=True)
        self.lines = QVBoxLayout()
        self.total = label(name="Section", center=True)
        self.box.addWidget(self.title)
        self.box.addLayout(self.lines)
        self.box.addWidget(self.total)
        self.box.addStretch(1)
        row = QHBoxLayout()
        self.cancel = big_button("")
        self.back = big_button("")
        self.confirm = big_button("", primary=True)
        self.cancel.clicked.connect(self.cancelled)
        self.back.clicked.connect(self.backed)
        self.confirm.clicked.connect(self.confirmed)
        row.addWidget(self.cancel)
        row.addWidget(self.back)
        row.addStretch(1)
        row.addWidget(self.confirm)
        self.box.addLayout(row)

    def show_session(self, session: Session, lang: str) -> None:
        assert session.volunteer is not None
        self.title.setText(say("confirm_title", lang))
        _clear(self.lines)
        counts = Counter(item.id for item in session.cart)
        seen: set[int] = set()
        for item in session.cart:
            if item.id in seen:
                continue
            seen.add(item.id)
            n = counts[item.id]
            row = _line_row(f"{item.name(lang)}  × {n}", say("price", lang, n=item.price * n))
            self.lines.addWidget(row)
        left = session.volunteer.available - session.total
        self.total.setText(say("confirm_total", lang, total=session.total, left=left))
        self.cancel.setText(say("cancel", lang))
        self.back.setText(say("back", lang))
        self.confirm.setText(say("confirm_button", lang))


class DispensingScreen(Screen):
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title", center=True)
        self.hint = label(name="Subtitle", center=True)
        self.lines = QVBoxLayout()
        self.box.addWidget(self.title)
        self.box.addWidget(self.hint)
        self.box.addLayout(self.lines)
        self.box.addStretch(1)
        self.cancel = big_button("")
        self.cancel.clicked.connect(self.cancelled)
        self.box.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignLeft)
        self.bars: list[QProgressBar] = []
        self.statuses: list[QLabel] = []
        self._shape: list[tuple[int, LineStatus]] = []

    def show_session(self, session: Session, lang: str) -> None:
        self.title.setText(say("dispensing_title", lang))
        self.hint.setText(say("dispensing_hint", lang))
        self.cancel.setText(say("cancel", lang))
        self.cancel.setVisible(session.next_line() is not None)
        shape = [(item.id, status) for item, status in session.lines]
        if [s for s, _ in shape] != [s for s, _ in self._shape]:
            _clear(self.lines)
            self.bars = []
            self.statuses = []
            for item, _ in session.lines:
                frame = QFrame()
                apply(frame, "Line")
                grid = QGridLayout(frame)
                grid.addWidget(label(item.name(lang), "Section"), 0, 0)
                status_label = label("", "LineStatus")
                status_label.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(status_label, 0, 1)
                bar = QProgressBar()
                apply(bar, "Progress")
                bar.setRange(0, 100)
                bar.setTextVisible(False)
                grid.addWidget(bar, 1, 0, 1, 2)
                self.lines.addWidget(frame)
                self.bars.append(bar)
                self.statuses.append(status_label)
        self._shape = shape
        for i, (_, line_status) in enumerate(session.lines):
            self.statuses[i].setText(say(f"line_{line_status.value}", lang))
            if line_status is LineStatus.DISPENSED:
                self.bars[i].setValue(100)
            elif line_status.final:
                self.bars[i].setValue(0)

    def show_progress(self, index: int, fraction: float) -> None:
        if 0 <= index < len(self.bars):
            self.bars[index].setValue(int(fraction * 100))


class ResultScreen(Screen):
    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = label(name="Title", center=True)
        self.lines = QVBoxLayout()
        self.balance = label(name="Balance", center=True)
        self.thanks = label(name="Subtitle", center=True)
        self.button = big_button("", primary=True)
        self.button.clicked.connect(self.done)
        self.box.addSpacing(24)
        self.box.addWidget(self.message)
        self.box.addLayout(self.lines)
        self.box.addWidget(self.balance)
        self.box.addWidget(self.thanks)
        self.box.addStretch(1)
        self.box.addWidget(self.button, 0, Qt.AlignmentFlag.AlignCenter)

    def show_session(self, session: Session, lang: str) -> None:
        statuses = [status for _, status in session.lines]
        dispensed = statuses.count(LineStatus.DISPENSED)
        if dispensed and dispensed == len(statuses):
            key = "result_ok"
        elif dispensed:
            key = "result_partial"
        else:
            key = "result_none"
        self.message.setText(say(key, lang))
        _clear(self.lines)
        for item, status in session.lines:
            self.lines.addWidget(_line_row(item.name(lang), say(f"line_{status.value}", lang)))
        if session.balance_after is not None:
            self.balance.setText(say("result_balance", lang, n=session.balance_after))
        self.balance.setVisible(session.balance_after is not None)
        self.thanks.setText(say("thanks", lang))
        self.button.setText(say("done", lang))


def _line_row(left: str, right: str) -> QFrame:
    frame = QFrame()
    apply(frame, "Line")
    row = QHBoxLayout(frame)
    row.addWidget(label(left, "Section"), 1)
    status = label(right, "LineStatus", wrap=False)
    row.addWidget(status)
    return frame


def _clear(layout: QVBoxLayout) -> None:
    while layout.count():
        child = layout.takeAt(0)
        widget = child.widget() if child is not None else None
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()
