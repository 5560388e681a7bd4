"""The lane board's datasheet made executable, served on a pseudo-terminal.

:class:`BoardModel` is the board: it remembers the SN, command, slot and current
result of the last request it executed, turns motors (counting every turn), watches
the drop sensor and keeps the restarted bit, exactly as ``docs/lane-board-protocol.md``
says. :class:`PtyBoard` puts it behind a real serial port (a pty) with faults on demand:
line noise, replies a byte at a time, lost requests and replies, silence, a power cut
during a turn, a slow motor, and pacing at the real baud rate.

    python -m drivers.lane_board.simulator [--lanes 8] [--stock 5] [--turn 2.8] [--paced]

prints the port to point the kiosk (or ``kiosk hw``) at, and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from ..simulated import SimLane
from .codec import (
    BUSY,
    FAILED,
    PICKUP_FLAP,
    RESTARTED,
    SERVICE_DOOR,
    UNKNOWN_SN_D1,
    WATCH_DROP,
    Cmd,
    Reply,
    Request,
)
from .framer import request_framer

BAUD = 9600
BYTE_S = 10 / BAUD  # start + 8 data + stop bits


@dataclass
class LaneState:
    stock: int
    jammed: bool = False
    turns: int = 0


@dataclass
class Remembered:
    sn: int
    cmd: int
    slot: int
    st: int = 0
    d1: int = 0
    d2: int = 0
    done_at: float = 0.0
    final_st: int = 0
    final_d1: int = 0
    drop_at_end: bool = False


@dataclass
class Faults:
    noise: bool = False
    byte_at_a_time: bool = False
    lose_replies: int = 0
    """Drop this many of the next replies (the request is still executed)."""
    lose_requests: int = 0
    """Drop this many of the next requests on the wire (the board never sees them)."""
    silent: bool = False
    power_cut_during_turn: bool = False
    """The next turn loses power half way: the board forgets its SN and restarts."""
    cut_after_drop: bool = True
    """With a power cut, whether the item had already fallen."""
    slow_motor_s: float | None = None
    paced: bool = False


@dataclass
class BoardModel:
    """The board's state and rules; ``handle`` answers one request (or not at all)."""

    lanes: dict[int, LaneState]
    turn_s: float = 2.8
    temperature_c: int | None = 4
    service_door_open: bool = False
    pickup_flap_open: bool = False
    clock: Callable[[], float] = time.monotonic
    faults: Faults = field(default_factory=Faults)
    restarted: bool = True
    remembered: Remembered | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    executed: list[Request] = field(default_factory=list)

    @property
    def motor_turns(self) -> int:
        return sum(lane.turns for lane in self.lanes.values())

    # --- the cabinet view the hardware simulator window shows ------------------------

    def _turning(self, number: int) -> bool:
        r = self.remembered
        return (
            r is not None
            and r.cmd == Cmd.DISPENSE
            and r.slot == number
            and bool(r.st & BUSY)
            and self.clock() < r.done_at
        )

    def lane(self, number: int) -> SimLane:
        with self.lock:
            self._settle()
            state = self.lanes[number]
            return SimLane(number, max(state.stock, 0), state.jammed, self._turning(number), state.turns)

    def lane_views(self) -> list[SimLane]:
        return [self.lane(n) for n in sorted(self.lanes)]

    def set_stock(self, number: int, stock: int) -> None:
        with self.lock:
            self.lanes[number].stock = max(0, stock)

    def set_jammed(self, number: int, jammed: bool) -> None:
        with self.lock:
            self.lanes[number].jammed = jammed

    def power_cycle(self) -> None:
        with self.lock:
            self.remembered = None
            self.restarted = True

    def _settle(self) -> None:
        r = self.remembered
        if r is None or not r.st & BUSY or self.clock() < r.done_at:
            return
        if self.faults.power_cut_during_turn:
            self.faults.power_cut_during_turn = False
            if self.faults.cut_after_drop:
                self.lanes[r.slot].stock -= 1
            self.power_cycle()
            return
        r.st, r.d1 = r.final_st, r.final_d1
        if r.drop_at_end:
            self.lanes[r.slot].stock -= 1

    def _start_dispense(self, req: Request) -> Remembered:
        lane = self.lanes.get(req.slot)
        rem = Remembered(req.sn, req.cmd, req.slot)
        if lane is None:
            rem.st = FAILED | 0x40
            return rem
        if lane.jammed:
            rem.st, rem.done_at = BUSY, self.clock() + 0.2
            rem.final_st, rem.final_d1 = FAILED | 0x08, 0
            return rem
        lane.turns += 1
        turn = self.faults.slow_motor_s if self.faults.slow_motor_s is not None else self.turn_s
        rem.st, rem.done_at = BUSY, self.clock() + turn
        watched = bool(req.d1 & WATCH_DROP)
        if lane.stock > 0:
            rem.final_st, rem.final_d1, rem.drop_at_end = 0, min(255, round(turn * 10)), True
        elif watched:
            rem.final_st, rem.final_d1 = FAILED | 0x20, min(255, round(turn * 10))
        else:
            rem.final_st, rem.final_d1 = 0, min(255, round(turn * 10))
        return rem

    def _reply_for(self, r: Remembered) -> Reply:
        return Reply(r.st, r.sn, r.cmd, r.slot, r.d1, r.d2)

    def handle(self, req: Request) -> Reply | None:
        with self.lock:
            self._settle()
            if self.faults.silent:
                return None
            r = self.remembered
            if r is not None and req.sn == r.sn:
                return self._reply_for(r)
            if req.cmd is Cmd.CHECK:
                return Reply(FAILED, req.sn, Cmd.CHECK, req.slot, UNKNOWN_SN_D1, 0)
            self.executed.append(req)
            if req.cmd is Cmd.DISPENSE:
                self.remembered = self._start_dispense(req)
                return self._reply_for(self.remembered)
            d1 = (SERVICE_DOOR if self.service_door_open else 0) | (
                PICKUP_FLAP if self.pickup_flap_open else 0
            )
            if self.restarted:
                d1 |= RESTARTED
                self.restarted = False
            d2 = 0xFF if self.temperature_c is None else self.temperature_c + 40
            self.remembered = Remembered(req.sn, Cmd.STATUS, 0, 0, d1, d2)
            return self._reply_for(self.remembered)


class PtyBoard:
    """Serves a :class:`BoardModel` on a pseudo-terminal until ``close``."""

    def __init__(self, model: BoardModel) -> None:
        self.model = model
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._framer = request_framer()
        self._stop = threading.Event()
        self._rng = random.Random(1)
        self._thread = threading.Thread(target=self._serve, name="lane-board-sim", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 256)
            except OSError:
                continue
            for frame in self._framer.feed(data):
                if self.model.faults.lose_requests > 0:
                    self.model.faults.lose_requests -= 1
                    continue
                reply = self.model.handle(Request.decode(frame))
                if reply is not None:
                    self._send(reply.encode())

    def _send(self, frame: bytes) -> None:
        f = self.model.faults
        if f.lose_replies > 0:
            f.lose_replies -= 1
            return
        if f.noise:
            noise = bytes(self._rng.choice([0xEE, 0x00, 0x55, 0xED, 0x13]) for _ in range(5))
            frame = noise + frame
        chunks = [frame[i : i + 1] for i in range(len(frame))] if f.byte_at_a_time else [frame]
        for chunk in chunks:
            if f.paced:
                time.sleep(BYTE_S * len(chunk))
            elif f.byte_at_a_time:
                time.sleep(0.002)
            os.write(self._master, chunk)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def main() -> None:
    ap = argparse.ArgumentParser(description="Lane board simulator on a pseudo-terminal")
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--stock", type=int, default=5)
    ap.add_argument("--turn", type=float, default=2.8, help="seconds a motor turn takes")
    ap.add_argument("--paced", action="store_true", help="send bytes at the real 9600 baud")
    args = ap.parse_args()
    model = BoardModel({n: LaneState(args.stock) for n in range(1, args.lanes + 1)}, turn_s=args.turn)
    model.faults.paced = args.paced
    board = PtyBoard(model)
    print(board.port, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        board.close()


if __name__ == "__main__":
    main()
