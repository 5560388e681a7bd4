"""The 2D code scanner in serial mode (USB-CDC or RS-232): lines ending in CR or LF.

:class:`LineAssembler` (no I/O) joins partial reads into lines, refuses lines longer
than a code can be and drops lines with bytes no code contains (line noise).
:class:`SerialScanner` reads on its own thread, reopens the port when the scanner is
unplugged and comes back, and hands each code to a callback; the kiosk's callback
re-emits it as a queued Qt signal into the same path as the keyboard-wedge scanner,
where a code read twice within 2 s is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .lane_board.transport import PortError, open_port

log = logging.getLogger(__name__)

MAX_LINE = 4096


class LineAssembler:
    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._overflow = False
        self.refused = 0

    def feed(self, data: bytes) -> list[str]:
        lines: list[str] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._overflow:
                    self.refused += 1
                elif self._buf:
                    line = self._take()
                    if line is not None:
                        lines.append(line)
                self._buf.clear()
                self._overflow = False
            elif not self._overflow:
                self._buf.append(byte)
                if len(self._buf) > self.max_line:
                    self._overflow = True
                    self._buf.clear()
        return lines

    def _take(self) -> str | None:
        try:
            text = self._buf.decode("ascii").strip()
        except UnicodeDecodeError:
            self.refused += 1
            return None
        if not text or not text.isprintable():
            self.refused += 1 if text else 0
            return None
        return text


class SerialScanner:
    def __init__(
        self,
        url: str,
        on_code: Callable[[str], None],
        *,
        on_state: Callable[[str], None] | None = None,
        reconnect_s: float = 1.0,
        opener: Callable[..., Any] = open_port,
    ) -> None:
        self.url = url
        self._on_code = on_code
        self._on_state = on_state
        self._reconnect_s = reconnect_s
        self._opener = opener
        self._assembler = LineAssembler()
        self._stop = threading.Event()
        self._port: Any = None
        self.state = "connecting"
        self._thread = threading.Thread(target=self._run, name="code-scanner", daemon=True)
        self._thread.start()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("scanner %s: %s", self.url, state)
            if self._on_state is not None:
                self._on_state(state)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._port is None:
                try:
                    self._port = self._opener(self.url, baudrate=9600, timeout=0.1)
                except PortError:
                    self._set_state("disconnected")
                    self._stop.wait(self._reconnect_s)
                    continue
                self._assembler = LineAssembler()
                self._set_state("connected")
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except Exception as exc:  # unplugged: close, and try again shortly
                log.warning("scanner %s: %s", self.url, exc)
                self._close_port()
                self._set_state("disconnected")
                self._stop.wait(self._reconnect_s)
                continue
            for line in self._assembler.feed(data):
                self._on_code(line)

    def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                log.debug("closing the scanner port failed", exc_info=True)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._close_port()


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``predicate`` (tests and tools; never on the GUI thread)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
