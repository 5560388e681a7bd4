"""When the kiosk tries the hub again: its interval after a good sync, backing off after failures."""

from __future__ import annotations

import random

from kiosk.sync import Backoff, retry_after


def test_failures_back_off_doubling_up_to_a_ceiling_and_a_good_sync_resets() -> None:
    backoff = Backoff(60.0, ceiling_s=900.0, rng=random.Random(1))
    assert backoff.after(True) == 60.0
    delays = [backoff.after(False) for _ in range(8)]
    assert 60.0 <= delays[0] <= 120.0  # 120 s, jittered down to half at most
    assert 120.0 <= delays[1] <= 240.0
    assert all(450.0 <= d <= 900.0 for d in delays[4:])  # at the ceiling
    assert backoff.after(True) == 60.0 and backoff.failures == 0


def test_kiosks_coming_back_together_do_not_all_retry_at_once() -> None:
    delays = {round(Backoff(60.0, rng=random.Random(seed)).after(False), 3) for seed in range(20)}
    assert len(delays) > 10


def test_a_hub_that_says_when_is_tried_again_then_and_no_failure_is_counted() -> None:
    backoff = Backoff(60.0, rng=random.Random(3))
    backoff.after(False)
    delays = [backoff.after(False, retry_after_s=2.0) for _ in range(20)]
    assert all(2.0 <= d <= 2.4 for d in delays)  # not before, and not all kiosks at once
    assert backoff.failures == 1
    assert backoff.after(False, retry_after_s=86_400.0) <= 900.0 * 1.2  # never past the ceiling's reach


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2026 07:28:30 GMT", now=1792567700.0) == 10.0
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567700.0) == 0.0  # already past
    assert retry_after(None) is None and retry_after("soon") is None and retry_after("-3") is None
