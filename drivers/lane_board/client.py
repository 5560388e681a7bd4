"""The lane-board client: one request in flight, the datasheet's timing and retry rules.

A reader thread feeds the framer and queues every valid reply. ``transact`` sends a
request and waits up to 100 ms for a reply with its SN; STATUS and CHECK are re-sent
as they were at most 3 times, DISPENSE never. A dispense is answered busy and polled
with CHECK every 200 ms; if its reply is lost, CHECK asks. Sequence numbers come from
the caller's durable counter (``next_sn``), so a restart never reuses one; ``resolve``
finishes a dispense a previous run left in flight.

What proves an item did not drop. The board remembers only the last request it
executed, so an unknown-SN answer alone proves nothing: a restart, or any request from
another host, erases the board's memory of the dispense (and another host's STATUS
clears the restarted bit too). A host sends STATUS right before each DISPENSE, under
the SN before the dispense's; when the board does not know the dispense's SN but still
remembers that one, it has executed nothing since, so the DISPENSE never arrived. Any
other answer leaves the outcome unknown, for a person to settle. A reply that echoes
another command under the dispense's SN proves it never ran only while this host has
held the port since sending it (``dispense``), not after a restart (``resolve``).
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


def memory_sn(after: int | None = None) -> Callable[[], int]:
    """An SN counter kept in memory, counting on from ``after`` (tests, and tools without a store)."""
    state: dict[str, int | None] = {"sn": after}

    def next_sn() -> int:
        sn = state["sn"] = codec.next_sn(state["sn"])
        return sn

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
        return self._follow(sn, lane, first, started, on_progress, live=True)

    def resolve(self, lane: int, sn: int | None) -> DispenseResult:
        """The outcome of a dispense left in flight (after a restart), from the board's memory."""
        if sn is None:
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,))
        return self._follow(sn, lane, None, time.monotonic(), None, live=False)

    def ping(self, sn: int = 1) -> Reply:
        """Whether the board answers, asked with CHECK only: it changes nothing the board remembers."""
        return self.transact(codec.check(sn, 1))

    def remembered_sn(self) -> int | None:
        """The SN the board remembers (the last one any host used), found with CHECKs only.

        Up to 255 questions, none of which the board remembers. A host without the kiosk's
        counter counts on from this SN, so it does not send again the SN a kiosk sent just
        before its last dispense, which the kiosk's proof that a dispense never ran rests on.
        ``None``: the board remembers nothing (it powered up since), and no SN is known safe.
        """
        for sn in range(1, 256):
            if not self.ping(sn).unknown_sn:
                return sn
        return None

    def _follow(
        self,
        sn: int,
        lane: int,
        reply: Reply | None,
        started: float,
        on_progress: Callable[[float], None] | None,
        *,
        live: bool,
    ) -> DispenseResult:
        """Poll ``sn`` to its end; ``live``: this host has held the port since it sent the DISPENSE."""
        while True:
            if reply is None:
                try:
                    reply = self.transact(codec.check(sn, lane))
                except (NoReply, PortError):
                    return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,), sn=sn)
            if reply.unknown_sn:
                return self._after_unknown_sn(sn, lane)
            if reply.cmd != Cmd.DISPENSE or reply.slot != lane:
                self._error(f"SN {sn} answered for CMD {reply.cmd:#04x} slot {reply.slot}")
                if live:  # the board held this SN for another command before ours came: it never ran
                    return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.NOT_RECEIVED,), sn=sn)
                # after a restart: another host used this SN meanwhile, before or after ours ran
                return DispenseResult(Outcome.UNKNOWN, lane, (Flag.FORGOTTEN,), sn=sn)
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
        """The board does not know ``sn``: it never ran only if the board still remembers the SN before."""
        try:
            before = self.transact(codec.check(codec.previous_sn(sn), lane))  # CHECK only reads
        except (NoReply, PortError):
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,), sn=sn)
        if not before.unknown_sn:
            return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.NOT_RECEIVED,), sn=sn)
        try:  # in doubt now; STATUS only says why, for the person who settles it
            status = self.status_reply()
        except (NoReply, PortError):
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,), sn=sn)
        if status.restarted:
            self._error(f"board restarted during dispense SN {sn}: outcome in doubt")
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.RESTARTED,), sn=sn)
        self._error(f"board forgot dispense SN {sn} (another host talked to it?): outcome in doubt")
        return DispenseResult(Outcome.UNKNOWN, lane, (Flag.FORGOTTEN,), sn=sn)

    def close(self) -> None:
        self._stop.set()
        self._reader.join(timeout=2)
        with contextlib.suppress(Exception):
            self._port.close()
