"""The lane-board client: one request in flight, the datasheet's timing and retry rules.

A reader thread feeds the framer and queues every valid reply. ``transact`` sends a
request and waits up to 100 ms for a reply with its SN; STATUS and CHECK are re-sent
as they were at most 3 times, DISPENSE never. A dispense is answered busy and polled
with CHECK every 200 ms; if its reply is lost, CHECK asks; an unknown-SN answer is
followed by STATUS, and a restarted board leaves the outcome unknown. Sequence
numbers come from the caller's durable counter (``next_sn``), so a restart never
reuses one; ``resolve`` finishes a dispense a previous run left in flight.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..machine import DispenseResult, Flag, MachineStatus, Outcome
from . import codec
from .codec import Cmd, Reply, Request
from .framer import reply_framer
from .transport import PortError, open_port

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 0.1
RESENDS = 3
POLL_S = 0.2
DISPENSE_LIMIT_S = 15.0


class NoReply(Exception):
    """The board sent no valid reply, after the allowed re-sends."""


def memory_sn() -> Callable[[], int]:
    """An SN counter kept in memory (tests, and tools that start with STATUS)."""
    state = {"sn": 0}

    def next_sn() -> int:
        state["sn"] = state["sn"] % 255 + 1
        return state["sn"]

    return next_sn


class LaneBoardClient:
    def __init__(
        self,
        port: Any,
        next_sn: Callable[[], int] | None = None,
        *,
        reply_timeout_s: float = REPLY_TIMEOUT_S,
        poll_s: float = POLL_S,
        dispense_limit_s: float = DISPENSE_LIMIT_S,
    ) -> None:
        self._port = port
        self.next_sn = next_sn or memory_sn()
        self.reply_timeout_s = reply_timeout_s
        self.poll_s = poll_s
        self.dispense_limit_s = dispense_limit_s
        self._framer = reply_framer()
        self._replies: queue.Queue[Reply] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.errors: deque[str] = deque(maxlen=50)
        self._reader = threading.Thread(target=self._read, name="lane-board-reader", daemon=True)
        self._reader.start()

    @classmethod
    def open(cls, url: str, next_sn: Callable[[], int] | None = None, **kw: Any) -> LaneBoardClient:
        return cls(open_port(url), next_sn, **kw)

    # --- the reader thread ---------------------------------------------------------------

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except Exception as exc:  # the port went away
                if not self._stop.is_set():
                    self._error(f"read failed: {exc}")
                    time.sleep(0.1)
                continue
            if data:
                for frame in self._framer.feed(data):
                    self._replies.put(Reply.decode(frame))

    def _error(self, text: str) -> None:
        log.warning("lane board: %s", text)
        self.errors.append(f"{time.strftime('%H:%M:%S')} {text}")

    # --- one request -----------------------------------------------------------------

    def _send(self, req: Request) -> None:
        try:
            self._port.write(req.encode())
            self._port.flush()
        except Exception as exc:
            raise PortError(f"write failed: {exc}") from exc

    def _await(self, sn: int, timeout: float) -> Reply | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                return None
            if reply.sn == sn:
                return reply
            self._error(f"discarded a reply for SN {reply.sn} while waiting for {sn}")

    def transact(self, req: Request) -> Reply:
        """Send ``req`` and return its reply; re-send STATUS/CHECK, never DISPENSE."""
        tries = 1 if req.cmd is Cmd.DISPENSE else 1 + RESENDS
        with self._lock:
            for _ in range(tries):
                self._send(req)
                reply = self._await(req.sn, self.reply_timeout_s)
                if reply is not None:
                    return reply
            self._error(f"no reply to {req.cmd.name} SN {req.sn}")
            raise NoReply(f"{req.cmd.name} SN {req.sn}")

    def drain(self) -> None:
        while True:
            try:
                self._replies.get_nowait()
            except queue.Empty:
                return

    # --- STATUS ----------------------------------------------------------------------

    def status_reply(self) -> Reply:
        """An executed STATUS; a re-query answer (another CMD echoed) moves to the next SN."""
        for _ in range(3):
            reply = self.transact(codec.status(self.next_sn()))
            if reply.cmd == Cmd.STATUS:
                return reply
            self._error(f"SN {reply.sn} was the board's remembered one; taking the next")
        raise NoReply("STATUS never executed")

    def status(self) -> MachineStatus:
        try:
            reply = self.status_reply()
        except (NoReply, PortError) as exc:
            return MachineStatus(alive=False, last_error=str(exc))
        return MachineStatus(
            alive=True,
            service_door_open=reply.service_door_open,
            pickup_flap_open=reply.pickup_flap_open,
            temperature_c=reply.temperature_c,
            restarted=reply.restarted,
            last_error=self.errors[-1] if self.errors else None,
        )

    # --- DISPENSE --------------------------------------------------------------------

    def dispense(
        self,
        lane: int,
        *,
        sn: int | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> DispenseResult:
        """Turn ``lane`` once under ``sn`` (from the caller's durable counter)."""
        sn = self.next_sn() if sn is None else sn
        self.drain()
        started = time.monotonic()
        try:
            first: Reply | None = self.transact(codec.dispense(sn, lane))
        except NoReply:
            first = None  # never sent again: ask with CHECK
        except PortError as exc:
            self._error(str(exc))
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,), sn=sn)
        return self._follow(sn, lane, first, started, on_progress)

    def resolve(self, lane: int, sn: int | None) -> DispenseResult:
        """The outcome of a dispense left in flight (after a restart): CHECK, then STATUS."""
        if sn is None:
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,))
        return self._follow(sn, lane, None, time.monotonic(), None)

    def _follow(
        self,
        sn: int,
        lane: int,
        reply: Reply | None,
        started: float,
        on_progress: Callable[[float], None] | None,
    ) -> DispenseResult:
        while True:
            if reply is None:
                try:
                    reply = self.transact(codec.check(sn, lane))
                except (NoReply, PortError):
                    return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,), sn=sn)
            if reply.unknown_sn:
                return self._after_unknown_sn(sn, lane)
            if reply.cmd != Cmd.DISPENSE or reply.slot != lane:
                # the board remembered this SN from another command: ours never ran
                self._error(f"SN {sn} answered for CMD {reply.cmd:#04x} slot {reply.slot}")
                return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.NOT_RECEIVED,), sn=sn)
            if not reply.busy:
                break
            elapsed = time.monotonic() - started
            if elapsed > self.dispense_limit_s:
                self._error(f"dispense SN {sn} still busy after {elapsed:.0f} s")
                return DispenseResult(Outcome.UNKNOWN, lane, (Flag.TIMEOUT,), sn=sn)
            if on_progress is not None:
                on_progress(min(0.95, elapsed / 6.0))
            time.sleep(self.poll_s)
            reply = None
        if on_progress is not None:
            on_progress(1.0)
        if reply.success:
            return DispenseResult(Outcome.DISPENSED, lane, (), reply.motor_ms, sn)
        return DispenseResult(Outcome.NOT_DISPENSED, lane, reply.flags, reply.motor_ms, sn)

    def _after_unknown_sn(self, sn: int, lane: int) -> DispenseResult:
        try:
            status = self.status_reply()
        except (NoReply, PortError):
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,), sn=sn)
        if status.restarted:
            self._error(f"board restarted during dispense SN {sn}: outcome in doubt")
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.RESTARTED,), sn=sn)
        return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.NOT_RECEIVED,), sn=sn)

    def close(self) -> None:
        self._stop.set()
        self._reader.join(timeout=2)
        with contextlib.suppress(Exception):
            self._port.close()
