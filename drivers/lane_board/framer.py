"""Bytes ↔ 8-byte frames: no I/O, no meaning, just the header, the length and the XOR.

A framer is fed whatever the line delivered (a byte at a time, several frames at
once, noise between them) and returns every complete frame whose header and XOR are
right. Anything else is skipped one byte at a time, so a frame that starts inside the
noise is still found (as pymodbus' RTU framer hunts for a frame start).
"""

from __future__ import annotations

from functools import reduce

FRAME_LEN = 8
REQUEST_HEAD = 0xED
REPLY_HEAD = 0xEE
REQUEST_LEN = 0x08


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def seal(first7: bytes) -> bytes:
    """Append the XOR byte to the first seven bytes of a frame."""
    if len(first7) != FRAME_LEN - 1:
        raise ValueError("a frame is 7 bytes and its XOR")
    return bytes(first7) + bytes([xor(first7)])


class Framer:
    """Finds frames that start with ``head`` (and, for requests, LEN 0x08)."""

    def __init__(self, head: int, max_buffer: int = 4096) -> None:
        self.head = head
        self._buf = bytearray()
        self._max = max_buffer
        self.discarded = 0

    def _valid(self, frame: bytes) -> bool:
        if frame[0] != self.head or xor(frame[:7]) != frame[7]:
            return False
        return not (self.head == REQUEST_HEAD and frame[1] != REQUEST_LEN)

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        frames: list[bytes] = []
        while True:
            start = self._buf.find(self.head)
            if start < 0:
                self.discarded += len(self._buf)
                self._buf.clear()
                break
            if start:
                self.discarded += start
                del self._buf[:start]
            if len(self._buf) < FRAME_LEN:
                break
            candidate = bytes(self._buf[:FRAME_LEN])
            if self._valid(candidate):
                frames.append(candidate)
                del self._buf[:FRAME_LEN]
            else:  # a header byte inside noise: skip it and hunt on
                self.discarded += 1
                del self._buf[:1]
        if len(self._buf) > self._max:
            self.discarded += len(self._buf) - FRAME_LEN
            del self._buf[:-FRAME_LEN]
        return frames

    def reset(self) -> None:
        self._buf.clear()


def reply_framer() -> Framer:
    return Framer(REPLY_HEAD)


def request_framer() -> Framer:
    return Framer(REQUEST_HEAD)
