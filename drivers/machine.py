"""The interface between the kiosk and a vending machine.

A machine answers ``status()`` and ``dispense(lane)``. ``dispense`` blocks until the
turn has an outcome (seconds on real hardware): callers run it off the GUI thread. It
has exactly three outcomes: the item dropped, it did not drop (with the board's reason
flags), or nobody can tell (the reply was lost, the board restarted mid-turn): an
unknown outcome must be settled by a person, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    DISPENSED = "dispensed"
    NOT_DISPENSED = "not_dispensed"
    UNKNOWN = "unknown"


class Flag(StrEnum):
    """Reason flags, named after the lane board's status bits (and two of the host's)."""

    NOT_HOME = "motor_not_home"  # ST bit 2
    MOTOR_DID_NOT_TURN = "motor_did_not_turn"  # ST bit 3
    JAM_DURING_TURN = "motor_not_home_in_time"  # ST bit 4
    NOTHING_DROPPED = "drop_sensor_saw_nothing"  # ST bit 5
    INVALID_SLOT = "invalid_slot"  # ST bit 6
    DROP_SENSOR_FAULT = "drop_sensor_fault"  # ST bit 7
    NO_REPLY = "board_not_answering"
    DOOR_OPEN = "door_open"
    TIMEOUT = "timeout"
    RESTARTED = "board_restarted"
    NOT_RECEIVED = "dispense_not_received"
    FORGOTTEN = "board_forgot_dispense"
    """The board remembers another request now, so nothing it says proves whether the item dropped."""


JAM_FLAGS = frozenset({Flag.MOTOR_DID_NOT_TURN, Flag.JAM_DURING_TURN, Flag.NOT_HOME})
"""After these, or ``NOTHING_DROPPED``, the lane stays disabled until a technician clears it."""


@dataclass(frozen=True, slots=True)
class DispenseResult:
    outcome: Outcome
    lane: int
    flags: tuple[Flag, ...] = ()
    motor_ms: int | None = None
    sn: int | None = None


@dataclass(frozen=True, slots=True)
class MachineStatus:
    alive: bool
    service_door_open: bool = False
    pickup_flap_open: bool = False
    temperature_c: int | None = None
    restarted: bool = False
    last_error: str | None = None

    @property
    def ready(self) -> bool:
        return self.alive and not self.service_door_open


class VendingMachine(Protocol):
    def status(self) -> MachineStatus: ...

    def dispense(
        self,
        lane: int,
        *,
        sn: int | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> DispenseResult:
        """Turn ``lane`` once and report what happened; ``on_progress`` gets 0..1.

        ``sn`` is the sequence number the caller recorded durably with the hold, so a
        later run can ask what became of this dispense (``resolve``).
        """
        ...

    def resolve(self, lane: int, sn: int | None) -> DispenseResult:
        """What became of a dispense a previous run started and never heard the end of."""
        ...

    def close(self) -> None: ...
