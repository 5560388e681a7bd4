"""The kiosk window: a header with the language switch, a notice banner, the screens.

It shows whichever screen belongs to the session's step and the session's notice as
one friendly sentence; it holds no state of the visit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from ..core.messages import LANGS, N_, SOURCE, notice_text, say
from ..core.session import Session, Step
from .screens import (
    CardPinScreen,
    CatalogScreen,
    ConfirmScreen,
    DispensingScreen,
    IdleScreen,
    ResultScreen,
    Screen,
)
from .tech import TechPinScreen, TechScreen
from .theme import PAPER, PRIMARY, apply, fill
from .widgets import big_button, label

APP_TITLE = N_("时间银行 · 益币兑换")
TRAINING_MARK = N_("演示机 · 模拟出货，不出真实物品")

NOTICE_MARGIN = 24

AUTONYMS = {"zh": "中文", "en": "English"}
"""Each language's name in itself: the switch offers the other language in its own words
(a reader of that language must find it), so this is not translated."""


def switch_label(lang: str) -> str:
    """The language button's text: the next language, named in itself."""
    return AUTONYMS[LANGS[(LANGS.index(lang) + 1) % len(LANGS)]]


class KioskWindow(QWidget):
    language_toggled = Signal()

    def __init__(self, parent: QWidget | None = None, *, training: bool = False) -> None:
        """``training``: a simulated machine outside demo mode; every screen says so."""
        super().__init__(parent)
        self.locked = False
        """A kiosk in the street: closing the window (Alt+F4, the compositor) does nothing;
        only a technician's "close the program" (:meth:`release`) or stopping the service."""
        self._released = False
        fill(self, PAPER)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        header = QFrame()
        fill(header, PRIMARY)
        row = QHBoxLayout(header)
        row.setContentsMargins(24, 12, 24, 12)
        self.title = label(name="HeaderTitle", wrap=False)
        self.lang = big_button("")
        apply(self.lang, "LangButton")
        self.lang.clicked.connect(self.language_toggled)
        self.training = label(name="TrainingMark", wrap=False)
        self.training.setVisible(training)
        row.addWidget(self.title, 1)
        row.addWidget(self.training)
        row.addSpacing(16)
        row.addWidget(self.lang)
        box.addWidget(header)
        self.header = header
        # the notice floats over the screen's top and lets touches through: it never moves a
        # control from under a finger
        self.notice = label(name="Notice", center=True)
        self.notice.setParent(self)
        self.notice.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.notice.setVisible(False)
        self.stack = QStackedWidget()
        box.addWidget(self.stack, 1)
        self.idle = IdleScreen()
        self.catalog = CatalogScreen()
        self.confirm = ConfirmScreen()
        self.dispensing = DispensingScreen()
        self.result = ResultScreen()
        self.tech_pin = TechPinScreen()
        self.tech = TechScreen()
        self.card_pin = CardPinScreen()
        self.screens: dict[Step, Screen] = {
            Step.IDLE: self.idle,
            Step.IDENTIFIED: self.catalog,
            Step.CHOOSING: self.catalog,
            Step.CONFIRMING: self.confirm,
            Step.DISPENSING: self.dispensing,
            Step.RESULT: self.result,
            Step.TECH_PIN: self.tech_pin,
            Step.TECH: self.tech,
            Step.CARD_PIN: self.card_pin,
        }
        for screen in dict.fromkeys(self.screens.values()):
            self.stack.addWidget(screen)
        self.setWindowTitle(say(APP_TITLE, SOURCE))

    @property
    def current(self) -> Screen:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def show_session(self, session: Session, lang: str) -> None:
        self.setWindowTitle(say(APP_TITLE, lang))
        self.title.setText(say(APP_TITLE, lang))
        self.lang.setText(switch_label(lang))
        self.training.setText(say(TRAINING_MARK, lang))
        screen = self.screens[session.step]
        screen.show_session(session, lang)
        if self.stack.currentWidget() is not screen:
            self.stack.setCurrentWidget(screen)
        if session.notice is None:
            self.notice.setVisible(False)
        else:
            self.notice.setText(notice_text(session.notice.key, lang, session.notice.params))
            self._place_notice()
            self.notice.setVisible(True)
            self.notice.raise_()

    def lock(self) -> None:
        self.locked = True
        on_top = Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        shown = self.isVisible()
        self.setWindowFlags(self.windowFlags() | on_top)  # hides a shown window: show it again
        if shown:
            self.show()

    def release(self) -> None:
        """Let the window close (a technician's audited choice)."""
        self._released = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.locked and not self._released:
            event.ignore()
            return
        super().closeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_notice()

    def _place_notice(self) -> None:
        width = max(0, self.width() - 2 * NOTICE_MARGIN)
        height = max(self.notice.heightForWidth(width), self.notice.sizeHint().height())
        top = self.header.height() + NOTICE_MARGIN // 2
        band = self.current.notice_band()
        if band is not None and band.isValid():
            top = self.current.mapTo(self, band.topLeft()).y()
            height = max(height, band.height())
        self.notice.setGeometry(NOTICE_MARGIN, top, width, height)
