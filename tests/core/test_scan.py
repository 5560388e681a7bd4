"""Telling a scanner burst from a person typing; dropping a code read twice."""

from __future__ import annotations

from kiosk.core.scan import DuplicateFilter, ScanAssembler


def feed(assembler: ScanAssembler, text: str, start: float, gap: float) -> float:
    t = start
    for ch in text:
        assembler.key(ch, t)
        t += gap
    return t


def test_a_fast_burst_ending_in_enter_is_a_scan() -> None:
    a = ScanAssembler()
    t = feed(a, "eyJhbGciOi.abc.def", 0.0, 0.004)
    assert a.enter(t) == "eyJhbGciOi.abc.def"


def test_a_person_typing_is_not_a_scan() -> None:
    a = ScanAssembler()
    t = feed(a, "hello world 123", 0.0, 0.15)
    assert a.enter(t) is None


def test_a_pause_restarts_the_burst() -> None:
    a = ScanAssembler()
    t = feed(a, "typed", 0.0, 0.2)
    t = feed(a, "SCANNEDCODE1", t + 1.0, 0.003)
    assert a.enter(t) == "SCANNEDCODE1"


def test_short_bursts_and_slow_enter_are_ignored() -> None:
    a = ScanAssembler()
    t = feed(a, "abc", 0.0, 0.001)
    assert a.enter(t) is None
    t = feed(a, "abcdefghijk", 5.0, 0.001)
    assert a.enter(t + 0.5) is None


def test_over_long_input_is_refused() -> None:
    a = ScanAssembler(max_length=20)
    t = feed(a, "x" * 50, 0.0, 0.001)
    assert a.enter(t) is None


def test_the_same_code_within_two_seconds_is_dropped() -> None:
    d = DuplicateFilter()
    assert d.admit("A", 0.0)
    assert not d.admit("A", 1.5)
    assert not d.admit("A", 3.0)  # still held under the scanner: the window moves on
    assert d.admit("A", 5.5)
    assert d.admit("B", 5.6)
    assert d.admit("A", 5.7)
