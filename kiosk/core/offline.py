"""Offline rules: how much a kiosk lets volunteers spend while it cannot reach the hub.

A kiosk that syncs with a hub counts as offline when its last good sync is older than
``offline_after_s``. Offline, each volunteer may spend at most ``daily_cap`` 益币 a day
that the hub has not seen, and the kiosk at most ``total_cap`` in all: the most a
volunteer can overdraw by spending at two offline kiosks is known in advance. A trust
list older than ``trust_max_age_s`` stops code acceptance (a revoked card could pass).
A kiosk with no hub (a stand-alone or demo machine) has no offline rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OfflinePolicy:
    offline_after_s: int = 900
    daily_cap: int = 100
    total_cap: int = 3000
    trust_max_age_s: int = 7 * 86400

    def __post_init__(self) -> None:
        if min(self.offline_after_s, self.daily_cap, self.total_cap, self.trust_max_age_s) < 0:
            raise ValueError("offline limits are not negative")

    def offline(self, now: float, last_good_sync: float | None) -> bool:
        return last_good_sync is None or now - last_good_sync > self.offline_after_s

    def trust_stale(self, now: float, trust_synced_at: float | None) -> bool:
        return trust_synced_at is None or now - trust_synced_at > self.trust_max_age_s

    def room(self, spent_today: int, unsynced_total: int) -> int:
        """益币 a volunteer may still spend offline today, given what is not yet at the hub."""
        return max(0, min(self.daily_cap - spent_today, self.total_cap - unsynced_total))
