"""The controller: screens' signals in, session changes and background service calls out.

Each slot is a few lines: it moves the core's :class:`Session` or hands a service call
to :class:`Background`, whose result comes back on the GUI thread and moves the session
again. The session's listeners repaint the window. Inactivity timeouts tick once a
second; any touch restarts them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from drivers.machine import DispenseResult

from ..core.catalog import Item
from ..core.messages import N_
from ..core.session import LineStatus, Notice, Session, Step
from ..core.vend import ManagedByHub
from ..services.kiosk import CardPinCheck, KioskService, PinCheck, ScanResult, TechOverview, VendReport
from .main_window import KioskWindow
from .ops import Background
from .scanner import HidScanner

log = logging.getLogger(__name__)

NOTICE_S = 6.0

SAVED = N_("已保存")
TEST_VEND_DONE = {
    "dispensed": N_("测试出货：{n} 号货道已出货"),
    "not_dispensed": N_("测试出货：{n} 号货道未出货"),
    "unknown": N_("测试出货：{n} 号货道结果不明，请查看取物口"),
}


class KioskController(QObject):
    vend_progress = Signal(int, float)
    scan_handled = Signal()
    vend_finished = Signal(int, object)
    tech_loaded = Signal()
    language_changed = Signal(str)
    desktop_requested = Signal()
    """A technician closes the kiosk's program (audited first): the app exits to the desktop."""

    def __init__(
        self,
        service: KioskService,
        session: Session,
        window: KioskWindow,
        scanner: HidScanner,
        background: Background,
        lang: str = "zh",
    ) -> None:
        super().__init__()
        self.service = service
        self.session = session
        self.window = window
        self.scanner = scanner
        self.background = background
        self.lang = lang
        self.home_lang = lang
        """The configured language: each visit starts in it, whatever the last one chose."""
        self.visit_id = ""
        self.serial_scanner_state: Callable[[], str] | None = None
        session.subscribe(self.on_session_changed)
        scanner.code_scanned.connect(self.on_code_scanned)
        scanner.touched.connect(self.session.touch)
        self.vend_progress.connect(window.dispensing.show_progress)
        w = window
        w.language_toggled.connect(self.on_language_toggled)
        w.catalog.picked.connect(self.on_picked)
        w.catalog.unpicked.connect(self.on_unpicked)
        w.catalog.reviewed.connect(self.on_reviewed)
        w.catalog.cancelled.connect(self.on_cancelled)
        w.confirm.confirmed.connect(self.on_confirmed)
        w.confirm.backed.connect(self.on_backed)
        w.confirm.cancelled.connect(self.on_cancelled)
        w.dispensing.cancelled.connect(self.on_cancelled)
        w.result.done.connect(self.on_cancelled)
        w.tech_pin.pin_entered.connect(self.on_pin_entered)
        w.tech_pin.cancelled.connect(self.on_cancelled)
        w.card_pin.pin_entered.connect(self.on_card_pin_entered)
        w.card_pin.cancelled.connect(self.on_cancelled)
        w.tech.exited.connect(self.on_cancelled)
        w.tech.desktop_requested.connect(self.on_desktop_requested)
        w.tech.lane_saved.connect(self.on_lane_saved)
        w.tech.item_saved.connect(self.on_item_saved)
        w.tech.item_added.connect(self.on_item_added)
        w.tech.in_doubt_settled.connect(self.on_in_doubt_settled)
        w.tech.refunded.connect(self.on_refunded)
        w.tech.refilled.connect(self.on_refilled)
        w.tech.test_vend_requested.connect(self.on_test_vend_requested)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.session.tick)
        self._ticker.start()
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.setInterval(int(NOTICE_S * 1000))
        self._notice_timer.timeout.connect(self.session.clear_notice)
        self._last_step = session.step

    # --- painting ----------------------------------------------------------------------

    def on_session_changed(self, session: Session) -> None:
        if session.step is not self._last_step:
            if session.step is Step.IDLE:
                self.refresh_offers()
                if self.lang != self.home_lang:
                    self.lang = self.home_lang
                    self.language_changed.emit(self.lang)
            self._last_step = session.step
        if session.notice is not None:
            self._notice_timer.start()
        self.window.show_session(session, self.lang)

    def on_language_toggled(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
        self.session.touch()
        self.window.show_session(self.session, self.lang)
        self.language_changed.emit(self.lang)

    def refresh_offers(self) -> None:
        """The idle screen's items and honour roll, read on the worker."""
        self.background.run(self.service.offers, self.session.show_offers)
        self.background.run(self.service.honour, self.session.show_honour)

    # --- scanning ----------------------------------------------------------------------

    def on_code_scanned(self, code: str) -> None:
        if not self.session.accepts_scan:
            if self.session.step is Step.DISPENSING:
                self.session.refuse(Notice("busy"))
            self.scan_handled.emit()
            return
        self.background.run(
            partial(self.service.scan, code),
            self.on_scan_checked,
            self._on_error,
            then=self.service.after_scan,
        )

    def on_scan_checked(self, result: ScanResult) -> None:
        if self.session.accepts_scan:
            if result.notice is not None:
                self.session.refuse(result.notice)
            elif result.tech_id is not None and self.session.step in (
                Step.IDLE,
                Step.RESULT,
                Step.IDENTIFIED,
                Step.CARD_PIN,
            ):
                self.session.begin_tech(result.tech_id)
            elif result.card_holder is not None:
                self.session.ask_card_pin(result.card_holder)
            elif result.volunteer is not None:
                self.visit_id = str(uuid.uuid4())
                self.session.identify(result.volunteer, result.offers)
        self.scan_handled.emit()

    def on_card_pin_entered(self, pin: str) -> None:
        holder = self.session.card_holder
        if self.session.step is Step.CARD_PIN and holder is not None:
            self.session.touch()
            call = partial(self.service.check_card_pin, holder.volunteer_id, pin)
            self.background.run(call, partial(self.on_card_pin_checked, holder.volunteer_id), self._on_error)

    def on_card_pin_checked(self, volunteer_id: str, check: CardPinCheck) -> None:
        holder = self.session.card_holder
        if self.session.step is not Step.CARD_PIN or holder is None or holder.volunteer_id != volunteer_id:
            return  # the pad was left (a timeout, another scan) while the PIN was checked
        if check.volunteer is not None:
            self.visit_id = str(uuid.uuid4())
            self.session.identify(check.volunteer, check.offers)
        elif check.notice is not None and check.ends_visit:
            self.session.end_visit(check.notice)
        elif check.notice is not None:
            self.session.refuse(check.notice)

    # --- choosing ----------------------------------------------------------------------

    def on_picked(self, item_id: int) -> None:
        if self.session.step in (Step.IDENTIFIED, Step.CHOOSING):
            self.session.pick(item_id)

    def on_unpicked(self, item_id: int) -> None:
        if self.session.step in (Step.CHOOSING, Step.CONFIRMING):
            self.session.unpick(item_id)

    def on_reviewed(self) -> None:
        if self.session.step is Step.CHOOSING:
            self.session.review()

    def on_backed(self) -> None:
        if self.session.step is Step.CONFIRMING:
            self.session.back()

    def on_cancelled(self) -> None:
        self.session.cancel()

    # --- dispensing --------------------------------------------------------------------

    def on_confirmed(self) -> None:
        if self.session.step is Step.CONFIRMING:
            self.session.confirm()
            self._vend_next()

    def _vend_next(self) -> None:
        index = self.session.next_line()
        if index is None:
            self.session.finish_dispensing()
            return
        assert self.session.volunteer is not None
        item: Item = self.session.lines[index][0]
        self.session.line_changed(index, LineStatus.DISPENSING)
        post = self.background.post

        def progress(fraction: float) -> None:
            post(partial(self.vend_progress.emit, index, fraction))

        call = partial(self.service.vend, self.session.volunteer.id, item, self.visit_id, progress)
        self.background.run(call, partial(self.on_vended, index), partial(self._on_vend_error, index))

    def on_vended(self, index: int, report: VendReport) -> None:
        self.session.line_changed(index, report.status, report.available)
        if report.notice is not None:
            self.session.refuse(report.notice)
        self.vend_finished.emit(index, report)
        self._vend_next()

    def _on_vend_error(self, index: int, exc: BaseException) -> None:
        # the store failed around the turn: nothing is known to be charged; a technician looks
        self.session.line_changed(index, LineStatus.UNKNOWN)
        self.session.refuse(Notice("machine_fault"))
        self.vend_finished.emit(index, None)
        self._vend_next()

    # --- technician --------------------------------------------------------------------

    def on_pin_entered(self, pin: str) -> None:
        tech_id = self.session.tech_id
        if self.session.step is Step.TECH_PIN and tech_id:
            self.background.run(partial(self.service.check_pin, tech_id, pin), self.on_pin_checked)

    def on_pin_checked(self, check: PinCheck) -> None:
        if self.session.step is not Step.TECH_PIN:
            return
        if check.ok:
            self.session.tech_unlocked()
            self.load_tech()
        elif check.notice is not None:
            self.session.refuse(check.notice)

    def load_tech(self) -> None:
        self.background.run(self.service.tech_overview, self.on_tech_loaded)

    def on_tech_loaded(self, overview: TechOverview) -> None:
        tech = self.window.tech
        scanner = self.serial_scanner_state() if self.serial_scanner_state else None
        tech.show_status(overview.status, overview.driver_errors, scanner)
        tech.show_sync(
            overview.last_sync,
            overview.queued_events,
            overview.has_hub,
            overview.offline,
            overview.sync_problem,
        )
        tech.show_lanes(overview.lanes, overview.items, overview.faults)
        tech.show_items(overview.items)
        tech.show_recent(overview.recent)
        tech.show_audit(overview.audit)
        tech.show_in_doubt(overview.in_doubt)
        self.tech_loaded.emit()

    def _tech_call(
        self,
        call: Callable[[], Any],
        invalid: str = N_("未保存：请检查输入"),
        done: Callable[[Any], tuple[str, dict[str, Any]]] | None = None,
    ) -> None:
        """Run a technician's change; say it is saved, or why not (``invalid`` for a refused value)."""
        if self.session.step is not Step.TECH:
            return
        self.session.touch()

        def ok(result: object) -> None:
            msgid, params = (SAVED, {}) if done is None else done(result)
            self.window.tech.show_message(msgid, **params)
            self.load_tech()

        def failed(exc: BaseException) -> None:
            # the worker logged the exception; the technician reads what to do
            if isinstance(exc, LookupError):
                msgid = N_("未保存：这条记录刚被改过，已重新载入")
            elif isinstance(exc, ManagedByHub):
                msgid = N_("未保存：这件商品的名称和价格由街道后台统一设定")
            elif isinstance(exc, ValueError):
                msgid = invalid
            else:
                msgid = N_("未保存：机器出错，请再试一次，仍不行请联系管理员")
            self.window.tech.show_message(msgid, error=True)
            self.load_tech()

        self.background.run(call, ok, failed)

    def on_lane_saved(self, lane: int, changes: dict[str, Any]) -> None:
        actor = self.session.tech_id or "?"
        self._tech_call(
            partial(self.service.update_lane, actor, lane, changes),
            N_("未保存：库存应在 0 到容量之间"),
        )

    def on_item_saved(self, item_id: int, changes: dict[str, Any]) -> None:
        actor = self.session.tech_id or "?"
        self._tech_call(
            partial(self.service.update_item, actor, item_id, changes),
            N_("未保存：商品要有中文名，价格要大于 0"),
        )

    def on_in_doubt_settled(self, vend_id: str, dispensed: bool) -> None:
        actor = self.session.tech_id or "?"
        self._tech_call(partial(self.service.settle_in_doubt, actor, vend_id, dispensed))

    def on_refunded(self, vend_id: str) -> None:
        actor = self.session.tech_id or "?"
        self._tech_call(partial(self.service.refund, actor, vend_id))

    def on_item_added(self) -> None:
        actor = self.session.tech_id or "?"
        self._tech_call(partial(self.service.add_item, actor))

    def on_refilled(self, lane: int | None) -> None:
        actor = self.session.tech_id or "?"
        self._tech_call(partial(self.service.refill, actor, lane))

    def on_desktop_requested(self) -> None:
        if self.session.step is not Step.TECH:
            return
        actor = self.session.tech_id or "?"
        call = partial(self.service.leave_to_desktop, actor)
        self.background.run(call, lambda _: self.desktop_requested.emit(), self._on_error)

    def on_test_vend_requested(self, lane: int) -> None:
        actor = self.session.tech_id or "?"

        def done(result: Any) -> tuple[str, dict[str, Any]]:
            outcome = result.outcome.value if isinstance(result, DispenseResult) else "unknown"
            return TEST_VEND_DONE.get(outcome, TEST_VEND_DONE["unknown"]), {"n": lane}

        self._tech_call(partial(self.service.test_vend, actor, lane), done=done)

    def _on_error(self, exc: BaseException) -> None:
        self.session.refuse(Notice("machine_fault"))
        self.scan_handled.emit()

    def shutdown(self) -> None:
        self._ticker.stop()
        self._notice_timer.stop()
