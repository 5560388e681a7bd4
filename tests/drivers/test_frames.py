"""Byte-exact frames from every worked example of the lane-board datasheet."""

from __future__ import annotations

import pytest

from drivers.lane_board import codec
from drivers.lane_board.codec import Cmd, CodecError, Reply, Request
from drivers.machine import Flag


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    ("request_", "wire"),
    [
        (codec.dispense(1, 12), "ED 08 01 70 0C 01 00 99"),
        (codec.check(1, 12), "ED 08 01 72 0C 00 00 9A"),
        (codec.status(2), "ED 08 02 74 00 00 00 93"),
    ],
)
def test_requests(request_: Request, wire: str) -> None:
    assert request_.encode() == h(wire)
    assert Request.decode(h(wire)) == request_


@pytest.mark.parametrize(
    ("wire", "busy", "success", "flags", "motor_ms"),
    [
        ("EE 02 01 70 0C 00 00 91", True, False, (), 0),
        ("EE 00 01 70 0C 1C 00 8F", False, True, (), 2800),
        ("EE 21 01 70 0C 3C 00 8E", False, False, (Flag.NOTHING_DROPPED,), 6000),
    ],
)
def test_dispense_replies(
    wire: str, busy: bool, success: bool, flags: tuple[Flag, ...], motor_ms: int
) -> None:
    reply = Reply.decode(h(wire))
    assert (reply.busy, reply.success, reply.flags, reply.motor_ms) == (busy, success, flags, motor_ms)
    assert (reply.sn, reply.cmd, reply.slot) == (1, Cmd.DISPENSE, 12)
    assert reply.encode() == h(wire)


def test_status_replies() -> None:
    plain = Reply.decode(h("EE 00 02 74 00 00 2C B4"))
    assert (plain.temperature_c, plain.restarted, plain.service_door_open) == (4, False, False)
    first = Reply.decode(h("EE 00 02 74 00 80 2C 34"))
    assert (first.temperature_c, first.restarted) == (4, True)


def test_unknown_sn_reply() -> None:
    reply = Reply(0x01, 7, Cmd.CHECK, 3, 0xFF)
    assert reply.unknown_sn and not reply.failed


def test_sn_zero_is_never_sent() -> None:
    with pytest.raises(CodecError):
        codec.status(0).encode()
