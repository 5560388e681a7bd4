from __future__ import annotations

import pytest

from kiosk.core.catalog import Item, Offer
from kiosk.core.offline import OfflinePolicy
from kiosk.core.rules import Limits, Refusal, check_pick


def test_offline_after_the_threshold_and_stale_trust() -> None:
    p = OfflinePolicy(offline_after_s=600, trust_max_age_s=3600)
    assert p.offline(1000, None) and not p.offline(1000, 500) and p.offline(2000, 500)
    assert p.trust_stale(0, None) and not p.trust_stale(3600, 0) and p.trust_stale(3601, 0)


def test_room_is_the_smaller_of_the_two_caps() -> None:
    p = OfflinePolicy(daily_cap=100, total_cap=1000)
    assert p.room(30, 200) == 70
    assert p.room(0, 960) == 40
    assert p.room(150, 0) == 0
    with pytest.raises(ValueError):
        OfflinePolicy(daily_cap=-1)


def test_a_pick_over_the_offline_room_is_refused() -> None:
    water = Offer(Item(1, "矿泉水", "Water", 20), 5, (1,))
    assert check_pick(water, [], 500, {}, Limits(), spend_limit=19) is Refusal.OFFLINE_CAP
    assert check_pick(water, [], 500, {}, Limits(), spend_limit=20) is None
    assert check_pick(water, [], 500, {}, Limits(), spend_limit=None) is None
