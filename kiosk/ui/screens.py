"""The kiosk's screens, one per step of the visit. Each shows a session; none decides.

A screen's ``show(session, lang)`` paints what the core's :class:`Session` holds; user
actions leave as signals (``picked``, ``confirmed`` …) for the controller. Screens keep
no state of the visit of their own, but for the digits typed on a PIN pad until OK
(never logged, forgotten when the pad is left).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.honour import hours
from ..core.messages import N_, N_in, say, say_in
from ..core.rules import Refusal
from ..core.session import LineStatus, Session
from .theme import apply
from .widgets import HonourPanel, ItemGrid, big_button, label

_TAG = {
    Refusal.SOLD_OUT: N_("已兑完"),
    Refusal.INSUFFICIENT_BALANCE: N_("益币不足"),
    Refusal.DAILY_ITEM_CAP: N_("今日已达上限"),
    Refusal.OFFLINE_CAP: N_("离线限额"),
}
"""The tag on a tile that cannot be picked, by the core's reason."""

PRICE = N_("{n} 益币")

LINE = "dispense line"
"""The gettext context of one line's state while dispensing and on the result."""

LINE_STATUS = {
    LineStatus.PENDING: N_in("dispense line", "等待中"),
    LineStatus.DISPENSING: N_in("dispense line", "出货中…"),
    LineStatus.DISPENSED: N_in("dispense line", "已出货"),
    LineStatus.FAILED: N_in("dispense line", "未出货，未扣益币"),
    LineStatus.UNKNOWN: N_in("dispense line", "待核实，暂未扣益币"),
    LineStatus.SKIPPED: N_in("dispense line", "已取消"),
}


def line_status(status: LineStatus, lang: str) -> str:
    return say_in(LINE, LINE_STATUS[status], lang)


class Screen(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(32, 24, 32, 24)
        self.box.setSpacing(16)

    def show_session(self, session: Session, lang: str) -> None:
        raise NotImplementedError

    def notice_band(self) -> QRect | None:
        """Where on this screen a notice may float (screen coordinates), covering whole what
        it covers; None: along the screen's top edge."""
        return None


class PinPadScreen(Screen):
    """A PIN pad: digits, clear, OK, cancel. The digits leave only by ``pin_entered`` (on OK).

    OK takes nothing shorter than ``MIN_DIGITS`` (it is greyed until then): a second tap
    on OK, or a PIN cut short, is not a try that counts towards a lockout.
    """

    pin_entered = Signal(str)
    cancelled = Signal()

    MIN_DIGITS = 1
    MAX_DIGITS = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Section", center=True)
        self.hint = label(name="Subtitle", center=True)
        self.dots = label(name="Big", center=True)
        # the prompt beside the pad on a landscape screen, above it on a portrait one: either
        # way both sit below the top, where a notice floats over the screen (a wrong PIN)
        self.columns = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.columns.setSpacing(32)
        prompt = QVBoxLayout()
        prompt.addStretch(1)
        prompt.addWidget(self.title)
        prompt.addWidget(self.hint)
        prompt.addWidget(self.dots)
        prompt.addStretch(1)
        self.columns.addLayout(prompt, 1)
        pad = QGridLayout()
        pad.setSpacing(12)
        self.keys: dict[str, Any] = {}
        for i, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"]):
            button = big_button(key, primary=key == "ok")
            apply(button, "Primary" if key == "ok" else "Key")
            button.clicked.connect(lambda _=False, k=key: self._press(k))
            pad.addWidget(button, i // 3, i % 3)
            self.keys[key] = button
        self.cancel = big_button("")
        self.cancel.clicked.connect(self.cancelled)
        pad.addWidget(self.cancel, 3, 3)
        holder = QVBoxLayout()
        holder.addStretch(1)
        holder.addLayout(pad)
        holder.addStretch(1)
        self.columns.addLayout(holder)
        self.box.addLayout(self.columns, 1)
        self._pin = ""
        self._show_dots()

    def _press(self, key: str) -> None:
        if key == "clear":
            self._pin = ""
        elif key == "ok":
            if len(self._pin) < self.MIN_DIGITS:
                return
            pin, self._pin = self._pin, ""
            self.pin_entered.emit(pin)
        elif len(self._pin) < self.MAX_DIGITS:
            self._pin += key
        self._show_dots()

    def _show_dots(self) -> None:
        self.dots.setText("●" * len(self._pin) or " ")
        self.keys["ok"].setEnabled(len(self._pin) >= self.MIN_DIGITS)

    def show_prompt(self, session: Session, lang: str) -> None:
        """The title and the hint above the pad."""
        raise NotImplementedError

    def show_session(self, session: Session, lang: str) -> None:
        self.show_prompt(session, lang)
        self.keys["clear"].setText(say("清除", lang))
        self.keys["ok"].setText(say("确定", lang))
        self.cancel.setText(say("取消", lang))
        self._show_dots()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        landscape = self.width() >= self.height()
        self.columns.setDirection(
            QBoxLayout.Direction.LeftToRight if landscape else QBoxLayout.Direction.TopToBottom
        )

    def hideEvent(self, event: QHideEvent) -> None:
        # digits typed and left behind (a timeout, cancel) are not there for the next person
        self._pin = ""
        self._show_dots()
        super().hideEvent(event)


class CardPinScreen(PinPadScreen):
    """A printed card's PIN, after its scan, when its volunteer gave it one at the hub."""

    MIN_DIGITS = MAX_DIGITS = 6  # the hub takes six digits exactly

    def show_prompt(self, session: Session, lang: str) -> None:
        holder = session.card_holder
        name = holder.masked_name if holder is not None else ""
        self.title.setText(say("您好，{name}", lang, name=name))
        self.hint.setText(say("这张志愿者卡设了密码，请输入 6 位数字密码", lang))
        self.hint.setVisible(True)


HONOUR_EVERY_S = 8
"""The idle screen shows the items and the honour roll in turn, this long each."""


class IdleScreen(Screen):
    """请扫描志愿者码, and what is on offer today, in turn with the community's honour roll."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title", center=True)
        self.hint = label(name="Subtitle", center=True)
        self.section = label(name="Section")
        self.grid = ItemGrid()
        self.honour = HonourPanel()
        self.turns = QStackedWidget()
        self.turns.addWidget(self.grid)
        self.turns.addWidget(self.honour)
        self.box.addSpacing(24)
        self.box.addWidget(self.title)
        self.box.addWidget(self.hint)
        self.box.addSpacing(16)
        self.box.addWidget(self.section)
        self.box.addWidget(self.turns, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(HONOUR_EVERY_S * 1000)
        self.timer.timeout.connect(self.next_turn)
        self._lang = "zh"
        self._has_roll = False

    def notice_band(self) -> QRect:
        """A refusal takes the place of the prompt (heading and hint) for its few seconds,
        rather than hiding half of the heading."""
        prompt = self.title.geometry().united(self.hint.geometry())
        return QRect(0, prompt.top(), self.width(), prompt.height())

    def show_session(self, session: Session, lang: str) -> None:
        self._lang = lang
        self.title.setText(say("请扫描志愿者码", lang))
        self.hint.setText(say("打开手机上的志愿者码，或出示志愿者卡，对准下方扫码口", lang))
        self.grid.set_offers(session.offers)
        for tile in self.grid.tiles.values():
            tag = _TAG[Refusal.SOLD_OUT] if tile.offer.sold_out else None
            tile.show_state(lang, tag, 0, removable=False)
        self._has_roll = session.honour is not None and session.honour.shown
        if session.honour is not None and self._has_roll:
            self.honour.show_roll(session.honour, lang)
        if not self._has_roll:
            self.turns.setCurrentWidget(self.grid)
        self._show_section()

    def next_turn(self) -> None:
        """The other half: the items, or the honour roll (when there is one)."""
        showing_items = self.turns.currentWidget() is self.grid
        self.turns.setCurrentWidget(self.honour if showing_items and self._has_roll else self.grid)
        self._show_section()

    def _show_section(self) -> None:
        on_roll = self.turns.currentWidget() is self.honour
        self.section.setText(say(N_("志愿服务光荣榜") if on_roll else N_("今日可兑换"), self._lang))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.turns.setCurrentWidget(self.grid)  # a new visitor sees the items first
        self._show_section()
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)


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
        self.standing = label(name="Subtitle")
        self.box.addWidget(self.standing)
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
        self.greeting.setText(say("您好，{name}", lang, name=volunteer.masked_name))
        self.balance_caption.setText(say("益币余额", lang))
        self.balance.setText(str(volunteer.available - session.total))
        standing = volunteer.standing
        if standing is not None:  # theirs alone: the screen in front of them after their scan
            self.standing.setText(
                say(
                    "本月服务 {hours} 小时，社区第 {n} 名，谢谢您！",
                    lang,
                    hours=hours(standing.tenths),
                    n=standing.place,
                )
            )
        self.standing.setVisible(standing is not None)
        self.grid.set_offers(session.offers)
        in_cart = Counter(item.id for item in session.cart)
        for item_id, tile in self.grid.tiles.items():
            refusal = session.why_not(tile.offer)
            tile.show_state(lang, _TAG.get(refusal) if refusal else None, in_cart[item_id], True)
        if session.cart:
            n, total = len(session.cart), session.total
            self.cart.setText(say("已选 {n} 件，共 {total} 益币", lang, n=n, total=total))
        else:
            self.cart.setText(say("点选想要的物品", lang))
        self.cancel.setText(say("取消", lang))
        self.next.setText(say("去确认", lang))
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
        self.title.setText(say("请确认兑换", lang))
        _clear(self.lines)
        counts = Counter(item.id for item in session.cart)
        seen: set[int] = set()
        for item in session.cart:
            if item.id in seen:
                continue
            seen.add(item.id)
            n = counts[item.id]
            row = _line_row(f"{item.name(lang)}  × {n}", say(PRICE, lang, n=item.price * n))
            self.lines.addWidget(row)
        left = session.volunteer.available - session.total
        total = say("合计 {total} 益币，兑换后余额 {left} 益币", lang, total=session.total, left=left)
        self.total.setText(total)
        self.cancel.setText(say("取消", lang))
        self.back.setText(say("返回", lang))
        self.confirm.setText(say("确认兑换", lang))


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
        self.names: list[QLabel] = []
        self.statuses: list[QLabel] = []
        self._shape: list[tuple[int, LineStatus]] = []

    def show_session(self, session: Session, lang: str) -> None:
        self.title.setText(say("正在出货，请稍候", lang))
        self.hint.setText(say("物品会掉到下方取物口", lang))
        self.cancel.setText(say("取消", lang))
        self.cancel.setVisible(session.next_line() is not None)
        shape = [(item.id, status) for item, status in session.lines]
        if [s for s, _ in shape] != [s for s, _ in self._shape]:
            _clear(self.lines)
            self.bars = []
            self.names = []
            self.statuses = []
            for item, _ in session.lines:
                frame = QFrame()
                apply(frame, "Line")
                grid = QGridLayout(frame)
                name_label = label(item.name(lang), "Section")
                grid.addWidget(name_label, 0, 0)
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
                self.names.append(name_label)
                self.statuses.append(status_label)
        self._shape = shape
        for i, (item, status) in enumerate(session.lines):
            self.names[i].setText(item.name(lang))
            self.statuses[i].setText(line_status(status, lang))
            if status is LineStatus.DISPENSED:
                self.bars[i].setValue(100)
            elif status.final:
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
            message = say("已出货，请从取物口取走", lang)
        elif dispensed:
            message = say("部分物品未出货，未出货的未扣益币", lang)
        else:
            message = say_in("result", "未出货，未扣益币", lang)
        self.message.setText(message)
        _clear(self.lines)
        for item, status in session.lines:
            self.lines.addWidget(_line_row(item.name(lang), line_status(status, lang)))
        if session.balance_after is not None:
            self.balance.setText(say("余额 {n} 益币", lang, n=session.balance_after))
        self.balance.setVisible(session.balance_after is not None)
        self.thanks.setText(say("感谢您的志愿服务！", lang))
        self.button.setText(say("完成", lang))


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
