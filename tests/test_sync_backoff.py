"""When the kiosk tries the hub again: its interval after a good sync, backing off after failures."""

from __future__ import annotations

import random

from kiosk.sync import Backoff


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
