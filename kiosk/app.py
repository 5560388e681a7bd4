"""Assembling the GUI on the composition root's parts, and running it.

``create_app`` is the one place the windows, the controller, the scanner and the
worker are built and connected, on top of :func:`kiosk.bootstrap.bootstrap`. The smoke
test and the demo use it as the kiosk itself does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from drivers.machine import VendingMachine
from drivers.simulated import Cabinet

from . import systemd
from .bootstrap import Parts, bootstrap
from .config import Config, MachineKind
from .core.session import Session, Step
from .demo import DemoCodes, load_or_create_key, seed
from .services.store import Store
from .sync import Backoff, HubClient, Syncer, SyncReport
from .ui import theme
from .ui.controller import KioskController
from .ui.main_window import KioskWindow
from .ui.ops import Background
from .ui.scanner import HidScanner, SerialScannerBridge
from .ui.simulator import SimulatorWindow


@dataclass
class KioskApp:
    qt: QApplication
    parts: Parts
    session: Session
    window: KioskWindow
    controller: KioskController
    scanner: HidScanner
    background: Background
    simulator_window: SimulatorWindow | None = None
    codes: DemoCodes | None = None
    on_close: Callable[[], None] | None = None
    serial_scanner: SerialScannerBridge | None = None
    sync_worker: Background | None = None
    sync_timer: QTimer | None = None
    watchdog: QTimer | None = None
    _closed: bool = field(default=False, repr=False)

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Process events until no background call is pending (demo walkthrough, smoke)."""
        return wait_until(lambda: self.background.idle, timeout_s)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.controller.shutdown()
        self.qt.removeEventFilter(self.scanner)
        if self.serial_scanner is not None:
            self.serial_scanner.close()
        if self.sync_timer is not None:
            self.sync_timer.stop()
        if self.watchdog is not None:
            self.watchdog.stop()
        systemd.notify("STOPPING=1")
        if self.sync_worker is not None:
            self.sync_worker.shutdown()
        self.background.shutdown()
        self.background.post = lambda callback: None  # type: ignore[method-assign]
        if self.simulator_window is not None:
            self.simulator_window.shutdown()
            self.simulator_window.close()
        self.window.close()
        # deliver what the worker queued, then delete the Qt side while we still hold it,
        # rather than leaving it to Python's garbage collector at some later moment
        QCoreApplication.sendPostedEvents()
        for obj in (self.simulator_window, self.window, self.controller, self.scanner, self.background):
            if obj is not None:
                obj.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.parts.close()
        if self.on_close is not None:
            self.on_close()


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until ``predicate`` holds (used by scripted runs, not by slots)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(10)

    def check() -> None:
        if predicate() or time.monotonic() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    if not predicate():
        loop.exec()
    timer.stop()
    return predicate()


def demo_parts(data_dir: Path) -> tuple[DemoCodes, Callable[[Store], None]]:
    key = load_or_create_key(data_dir / "demo-signing-key.pem")
    return DemoCodes(key), lambda repo: seed(repo, key)


def create_app(
    config: Config,
    *,
    machine: VendingMachine | None = None,
    clock: Callable[[], float] = time.time,
    codes: DemoCodes | None = None,
    seed_store: Callable[[Store], object] | None = None,
    cabinet: Cabinet | None = None,
    on_close: Callable[[], None] | None = None,
) -> KioskApp:
    """Build the kiosk; in demo mode ``cabinet`` is what the simulator window shows
    (the in-process cabinet, or the board simulator behind a pty)."""
    existing = QApplication.instance()
    qt = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    theme.install(qt)
    parts = bootstrap(config, machine=machine, clock=clock, seed=seed_store)
    session = Session(config.limits, config.timeouts)
    window = KioskWindow(training=config.machine is MachineKind.SIMULATED and not config.demo)
    scanner = HidScanner()
    scanner.install(qt)
    background = Background()
    controller = KioskController(parts.service, session, window, scanner, background, config.language)
    window.show_session(session, controller.lang)
    controller.refresh_offers()
    simulator_window = None
    cabinet = cabinet or parts.simulator
    if cabinet is not None:  # a simulated machine: its window stands for the cabinet and scanner
        items = {item.id: item for item in parts.store.items()}
        held = {lane.number: items[lane.item_id] for lane in parts.store.lanes() if lane.item_id in items}
        simulator_window = SimulatorWindow(cabinet, held, codes, scanner, clock, controller.lang)
        controller.language_changed.connect(simulator_window.show_language)
    app = KioskApp(qt, parts, session, window, controller, scanner, background, simulator_window, codes)
    app.on_close = on_close
    if config.hub_url and config.hub_token:
        start_sync(app, config.hub_url, config.hub_token, config.sync_interval_s)
    if config.scanner_port:
        bridge = SerialScannerBridge(config.scanner_port, scanner)
        app.serial_scanner = bridge
        controller.serial_scanner_state = lambda: bridge.state
    return app


def start_sync(app: KioskApp, url: str, token: str, interval_s: float) -> None:
    """Sync with the hub now, then ``interval_s`` after each good sync, on a worker of its own.

    After a failure the next try backs off (see :class:`Backoff`); one sync at a time.
    """
    config = app.parts.config
    syncer = Syncer(
        app.parts.store,
        HubClient(url, token),
        pictures=config.pictures_dir,
        trust_max_age_s=config.offline.trust_max_age_s,
    )
    backoff = Backoff(interval_s)
    worker = Background()
    timer = QTimer()
    timer.setSingleShot(True)

    def once() -> SyncReport:
        report = syncer.run_once()
        if report.ok:  # keys, revoked cards and technicians come with every page, changed or not
            app.parts.service.after_sync()
        return report

    def done(report: SyncReport | None) -> None:
        if report is not None and report.ok and not app._closed and app.session.step is Step.IDLE:
            app.controller.refresh_offers()  # a price, a picture or the honour roll may have changed
        if not app._closed:  # a sync that finished while the kiosk was closing plans no other
            retry = None if report is None else report.retry_after_s
            timer.start(int(backoff.after(report is not None and report.ok, retry) * 1000))

    def tick() -> None:
        worker.run(once, done, lambda _: done(None))

    timer.timeout.connect(tick)
    app.sync_worker, app.sync_timer = worker, timer
    tick()


def announce_ready(app: KioskApp) -> None:
    """Tell systemd the kiosk is up, then keep telling it from the GUI thread's event loop.

    Called once the event loop runs with the idle screen up (recovery of in-flight
    dispenses happened in :func:`bootstrap`, before any window). The pings come from a
    timer of this thread: while the GUI thread is stuck, none is sent.
    """
    systemd.notify("READY=1")
    systemd.notify("STATUS=" + "ready: waiting for a volunteer")
    every = systemd.watchdog_interval_s()
    if every is not None:
        app.watchdog = QTimer()
        app.watchdog.setInterval(max(1, int(every * 1000)))
        app.watchdog.timeout.connect(lambda: systemd.notify("WATCHDOG=1"))
        app.watchdog.start()


LEFT_TO_DESKTOP = 64
"""The exit status when a technician closed the program: the kiosk's unit does not restart it."""


def lock_down(app: KioskApp) -> None:
    """A kiosk in the street: frameless, on top, closing does nothing, no cursor on a touchscreen.

    A technician closes the program from the technician screen (audited); the exit status
    :data:`LEFT_TO_DESKTOP` tells systemd not to start it again.
    """
    app.window.lock()
    if app.parts.config.hide_cursor:
        app.qt.setOverrideCursor(Qt.CursorShape.BlankCursor)


def leave_to_desktop(app: KioskApp) -> None:
    app.window.release()
    app.qt.exit(LEFT_TO_DESKTOP if app.window.locked else 0)


def place_beside(panel: QWidget, window: QWidget) -> None:
    """The simulator panel right of the kiosk window where the screen has room, else over
    its right edge: always on the screen (a 1280×800 display has no room beside it)."""
    screen = (window.screen() or QApplication.primaryScreen()).availableGeometry()
    frame = window.frameGeometry()
    size = panel.frameGeometry().size().boundedTo(screen.size())
    x = min(frame.right() + 8, screen.right() - size.width() + 1)
    y = min(max(frame.top(), screen.top()), screen.bottom() - size.height() + 1)
    panel.move(max(x, screen.left()), max(y, screen.top()))


def run(app: KioskApp) -> int:
    if app.parts.config.locked:
        lock_down(app)
    if app.parts.config.fullscreen:
        app.window.showFullScreen()
    else:
        app.window.resize(1280, 800)
        app.window.show()
    if app.simulator_window is not None:
        place_beside(app.simulator_window, app.window)
        app.simulator_window.show()
    app.controller.desktop_requested.connect(lambda: leave_to_desktop(app))
    QTimer.singleShot(0, lambda: announce_ready(app))
    try:
        return app.qt.exec()
    finally:
        app.close()
