"""An in-process vending cabinet: the lane board's behaviour without the wire.

Each lane holds a physical stock and can be switched empty or jammed. A turn takes
``turn_s`` seconds; a lane with stock drops one item and the drop sensor sees it; an
empty lane turns and the sensor sees nothing; a jammed lane's motor does not turn. The
cabinet counts motor turns, so tests can check that each paid item turned the motor
exactly once. Listeners (the simulator window) hear when a lane starts and stops
turning. Thread-safe: the kiosk calls ``dispense`` from a worker thread while the
simulator window flips switches from the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from .machine import DispenseResult, Flag, MachineStatus, Outcome


@dataclass(frozen=True, slots=True)
class SimLane:
    number: int
    stock: int
    jammed: bool = False
    turning: bool = False
    turns: int = 0


Listener = Callable[[SimLane], None]


class Cabinet(Protocol):
    """What the hardware simulator window shows and switches: lanes and their motors."""

    def lane_views(self) -> list[SimLane]: ...

    def lane(self, number: int) -> SimLane: ...

    def set_stock(self, number: int, stock: int) -> None: ...

    def set_jammed(self, number: int, jammed: bool) -> None: ...


class SimulatedMachine:
    def __init__(self, lanes: dict[int, int], *, turn_s: float = 1.0, temperature_c: int = 4) -> None:
        self._lock = threading.Lock()
        self._lanes = {n: SimLane(n, stock) for n, stock in lanes.items()}
        self.turn_s = turn_s
        self.temperature_c = temperature_c
        self.service_door_open = False
        self.silent = False
        self._listeners: list[Listener] = []

    # --- the switches and the view -------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def lanes(self) -> list[SimLane]:
        with self._lock:
            return sorted(self._lanes.values(), key=lambda lane: lane.number)

    def lane_views(self) -> list[SimLane]:
        return self.lanes()

    def lane(self, number: int) -> SimLane:
        with self._lock:
            return self._lanes[number]

    def set_stock(self, number: int, stock: int) -> None:
        self._update(number, stock=max(0, stock))

    def set_jammed(self, number: int, jammed: bool) -> None:
        self._update(number, jammed=jammed)

    @property
    def motor_turns(self) -> int:
        with self._lock:
            return sum(lane.turns for lane in self._lanes.values())

    def _update(self, number: int, **changes: object) -> SimLane:
        with self._lock:
            lane = replace(self._lanes[number], **changes)  # type: ignore[arg-type]
            self._lanes[number] = lane
        for listener in list(self._listeners):
            listener(lane)
        return lane

    # --- VendingMachine ------------------------------------------------------------------

    def status(self) -> MachineStatus:
        if self.silent:
            return MachineStatus(alive=False, last_error=Flag.NO_REPLY.value)
        return MachineStatus(
            alive=True,
            service_door_open=self.service_door_open,
            temperature_c=self.temperature_c,
        )

    def resolve(self, lane: int, sn: int | None) -> DispenseResult:
        """The in-process cabinet forgets everything with the process: a person decides."""
        return DispenseResult(Outcome.UNKNOWN, lane, (Flag.RESTARTED,), sn=sn)

    def dispense(
        self,
        lane: int,
        *,
        sn: int | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> DispenseResult:
        if self.silent:
            return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,))
        if lane not in self._lanes:
            return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.INVALID_SLOT,))
        state = self.lane(lane)
        if state.jammed:
            return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.MOTOR_DID_NOT_TURN,), 0)
        self._update(lane, turning=True, turns=state.turns + 1)
        steps = 10
        for i in range(steps):
            if self.turn_s > 0:
                time.sleep(self.turn_s / steps)
            if on_progress is not None:
                on_progress((i + 1) / steps)
        with self._lock:
            current = self._lanes[lane]
        dropped = current.stock > 0
        self._update(lane, turning=False, stock=current.stock - 1 if dropped else 0)
        motor_ms = int(self.turn_s * 1000)
        if dropped:
            return DispenseResult(Outcome.DISPENSED, lane, (), motor_ms, sn)
        return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.NOTHING_DROPPED,), motor_ms, sn)

    def close(self) -> None:
        pass
