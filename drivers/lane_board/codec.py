"""Frames ↔ typed requests and replies, and the meaning of the status bits.

Pure functions over the datasheet's byte layout; no I/O, no timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..machine import Flag
from .framer import FRAME_LEN, REPLY_HEAD, REQUEST_HEAD, REQUEST_LEN, seal


class Cmd(IntEnum):
    DISPENSE = 0x70
    CHECK = 0x72
    STATUS = 0x74


# ST bits
FAILED = 0x01
BUSY = 0x02
REASONS = {
    0x04: Flag.NOT_HOME,
    0x08: Flag.MOTOR_DID_NOT_TURN,
    0x10: Flag.JAM_DURING_TURN,
    0x20: Flag.NOTHING_DROPPED,
    0x40: Flag.INVALID_SLOT,
    0x80: Flag.DROP_SENSOR_FAULT,
}
WATCH_DROP = 0x01
UNKNOWN_SN_D1 = 0xFF
SERVICE_DOOR = 0x01
PICKUP_FLAP = 0x02
RESTARTED = 0x80
NO_SENSOR = 0xFF


class CodecError(ValueError):
    pass


def next_sn(sn: int | None) -> int:
    """The SN a host sends after ``sn``: the next in 1..255, wrapping and skipping 0."""
    return 1 if sn is None else sn % 255 + 1


def previous_sn(sn: int) -> int:
    """The SN sent just before ``sn`` by a host that counts with :func:`next_sn`."""
    return (sn - 2) % 255 + 1


@dataclass(frozen=True, slots=True)
class Request:
    sn: int
    cmd: Cmd
    slot: int = 0
    d1: int = 0

    def encode(self) -> bytes:
        if not 1 <= self.sn <= 255:
            raise CodecError("SN is 1..255 (0 is never sent)")
        if self.cmd is Cmd.STATUS and self.slot != 0:
            raise CodecError("STATUS carries slot 0")
        if not 0 <= self.slot <= 255 or not 0 <= self.d1 <= 255:
            raise CodecError("slot and D1 are bytes")
        return seal(bytes([REQUEST_HEAD, REQUEST_LEN, self.sn, self.cmd, self.slot, self.d1, 0]))

    @classmethod
    def decode(cls, frame: bytes) -> Request:
        if len(frame) != FRAME_LEN or frame[0] != REQUEST_HEAD:
            raise CodecError("not a request frame")
        try:
            cmd = Cmd(frame[3])
        except ValueError as exc:
            raise CodecError(f"unknown command {frame[3]:#04x}") from exc
        return cls(sn=frame[2], cmd=cmd, slot=frame[4], d1=frame[5])


def dispense(sn: int, slot: int, watch_drop: bool = True) -> Request:
    return Request(sn, Cmd.DISPENSE, slot, WATCH_DROP if watch_drop else 0)


def check(sn: int, slot: int) -> Request:
    return Request(sn, Cmd.CHECK, slot)


def status(sn: int) -> Request:
    return Request(sn, Cmd.STATUS)


@dataclass(frozen=True, slots=True)
class Reply:
    st: int
    sn: int
    cmd: int
    slot: int
    d1: int = 0
    d2: int = 0

    def encode(self) -> bytes:
        return seal(bytes([REPLY_HEAD, self.st, self.sn, self.cmd, self.slot, self.d1, self.d2]))

    @classmethod
    def decode(cls, frame: bytes) -> Reply:
        if len(frame) != FRAME_LEN or frame[0] != REPLY_HEAD:
            raise CodecError("not a reply frame")
        return cls(st=frame[1], sn=frame[2], cmd=frame[3], slot=frame[4], d1=frame[5], d2=frame[6])

    @property
    def busy(self) -> bool:
        return bool(self.st & BUSY)

    @property
    def unknown_sn(self) -> bool:
        return self.st == FAILED and self.d1 == UNKNOWN_SN_D1

    @property
    def success(self) -> bool:
        return self.st == 0

    @property
    def failed(self) -> bool:
        return bool(self.st & FAILED) and not self.unknown_sn

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(flag for bit, flag in REASONS.items() if self.st & bit)

    @property
    def motor_ms(self) -> int:
        return self.d1 * 100

    # STATUS replies
    @property
    def restarted(self) -> bool:
        return bool(self.d1 & RESTARTED)

    @property
    def service_door_open(self) -> bool:
        return bool(self.d1 & SERVICE_DOOR)

    @property
    def pickup_flap_open(self) -> bool:
        return bool(self.d1 & PICKUP_FLAP)

    @property
    def temperature_c(self) -> int | None:
        return None if self.d2 == NO_SENSOR else self.d2 - 40
