"""Telling a scanner from a person, and ignoring a code scanned twice.

A USB-HID scanner is a keyboard that types the whole code and Enter within a few
milliseconds; a person types a key every hundred milliseconds or more. The assembler
is fed key presses with their times and yields a code only for a fast burst ending in
Enter. The duplicate filter drops the same code seen again within a window (2 s), as a
volunteer holding a phone under the scanner makes it read the code several times. Both
take times as arguments, so tests drive them with any clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ScanAssembler:
    max_gap_s: float = 0.05
    """Largest pause between two keys of one scan."""
    min_length: int = 8
    """Shorter bursts are keyboard shortcuts or chance, not codes."""
    max_length: int = 4096
    _buffer: list[str] = field(default_factory=list)
    _last: float | None = None

    def key(self, char: str, t: float) -> None:
        """A printable character typed at time ``t`` (seconds, monotonic)."""
        if self._last is None or t - self._last > self.max_gap_s:
            self._buffer.clear()
        self._last = t
        if len(self._buffer) < self.max_length:
            self._buffer.append(char)

    def enter(self, t: float) -> str | None:
        """Enter pressed at ``t``: the code if the burst was a scan."""
        fast = self._last is not None and t - self._last <= self.max_gap_s
        code = "".join(self._buffer)
        self.reset()
        if fast and self.min_length <= len(code) < self.max_length:
            return code
        return None

    def reset(self) -> None:
        self._buffer.clear()
        self._last = None

    @property
    def pending(self) -> bool:
        return bool(self._buffer)


@dataclass(slots=True)
class DuplicateFilter:
    window_s: float = 2.0
    _last_code: str | None = None
    _last_at: float = float("-inf")

    def admit(self, code: str, t: float) -> bool:
        """``True`` unless ``code`` is the code admitted less than ``window_s`` ago."""
        if code == self._last_code and t - self._last_at < self.window_s:
            self._last_at = t  # a phone held still keeps being read: extend the window
            return False
        self._last_code, self._last_at = code, t
        return True
