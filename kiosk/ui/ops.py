"""Running service calls off the GUI thread and bringing results back to it.

``Background.run(fn, success, failure)`` runs ``fn`` on a single worker thread (one
SQLite writer, in order) and calls ``success(result)`` or ``failure(exc)`` on the GUI
thread through a queued signal, as Anki's ``CollectionOp`` does. ``post`` hands any
callable to the GUI thread (progress from a machine's thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)
T = TypeVar("T")


class Background(QObject):
    finished = Signal(object)
    """Emitted (queued) with a zero-argument callable to run on the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-worker")
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.pending = 0

    def run(
        self,
        fn: Callable[[], T],
        success: Callable[[T], None] | None = None,
        failure: Callable[[BaseException], None] | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        """``then`` runs on the worker after the result is sent, before any later job."""
        self.pending += 1

        def job() -> None:
            callback: Callable[[], None] | None
            try:
                result = fn()
            except Exception as exc:
                log.exception("background call failed")
                callback = partial(failure or _log_failure, exc)
            else:
                callback = None if success is None else partial(success, result)
            if callback is not None:
                self.finished.emit(callback)
            if then is not None:
                try:
                    then()
                except Exception:
                    log.exception("follow-up of a background call failed")
            self.finished.emit(self._one_done)

        self._pool.submit(job)

    def _one_done(self) -> None:
        self.pending -= 1

    def post(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the GUI thread (callable from any thread)."""
        self.finished.emit(callback)

    def _deliver(self, callback: Callable[[], None]) -> None:
        callback()

    @property
    def idle(self) -> bool:
        return self.pending == 0

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _log_failure(exc: BaseException) -> None:
    log.error("background call failed: %s", exc)
