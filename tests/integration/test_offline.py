"""Offline rules with a hub: caps while offline, a stale trust list, two kiosks' overdraft."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.db import migrate, open_engine
from hub.kek import Kek
from hub.service import Hub
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.core.offline import OfflinePolicy
from kiosk.core.rules import Limits
from kiosk.core.session import LineStatus
from kiosk.sync import Syncer
from protocol.codes import CodeKind
from tests.helpers import FakeClock
from tests.integration.test_balance_invariant import InProcessHub

POLICY = OfflinePolicy(offline_after_s=600, daily_cap=40, total_cap=1000, trust_max_age_s=86400)
HOURS = (
    b"record_id,volunteer_id,name,hours,activity,certified_on\n"
    b"R1,V1,A,5,x,2026-11-01\nR2,V2,B,10,x,2026-11-01\n"  # 50 and 100 益币
)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    engine = open_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    h = Hub(engine, kek=Kek.generate())
    h.ensure_key()
    h.import_hours(HOURS)
    yield h
    engine.dispose()


def make_kiosk(root: Path, name: str, hub: Hub, clock: FakeClock) -> tuple[Parts, Syncer]:
    config = dataclasses.replace(
        demo_config(root / name, turn_s=0.0),
        issuers=("timebank-hub",),
        hub_url="http://hub.invalid",  # a hub is configured: the offline rules apply
        hub_token="t",
        offline=POLICY,
    )

    def stock(repo):  # type: ignore[no-untyped-def]
        item = repo.add_item("t", "矿泉水", "Water", 20)
        repo.add_lane("t", 1, item.id, 50, 50)

    parts = bootstrap(config, clock=clock, seed=stock)
    parts.service.limits = Limits(per_visit_items=99, per_item_per_day=99)  # only the offline caps bite
    syncer = Syncer(parts.store, InProcessHub(hub, hub.add_kiosk(name)["kiosk_id"]))
    assert syncer.run_once().ok
    parts.store.set_setting("last_good_sync", str(int(clock())))
    parts.service.reload_trust()
    return parts, syncer


def test_caps_apply_only_when_offline(hub: Hub, tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    parts, _ = make_kiosk(tmp_path, "k1", hub, clock)
    try:
        online = parts.service.scan(hub.issue_code("V2", CodeKind.CARD))
        assert online.volunteer is not None and online.volunteer.spend_limit is None
        assert parts.service.tech_overview().offline is False
        clock.advance(601)
        assert parts.service.tech_overview().offline is True  # what the technician screen shows
        offline = parts.service.scan(hub.issue_code("V2", CodeKind.CARD))
        assert offline.volunteer is not None and offline.volunteer.spend_limit == 40
        water = parts.store.items()[0]
        assert parts.service.vend("V2", water, "v").status is LineStatus.DISPENSED
        assert parts.service.vend("V2", water, "v").status is LineStatus.DISPENSED
        refused = parts.service.vend("V2", water, "v")
        assert refused.status is LineStatus.FAILED and refused.notice is not None
        assert refused.notice.key == "offline_cap"
    finally:
        parts.close()


def test_a_stale_trust_list_stops_codes(hub: Hub, tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    parts, _ = make_kiosk(tmp_path, "k1", hub, clock)
    try:
        clock.advance(86401)
        result = parts.service.scan(hub.issue_code("V1", CodeKind.CARD))
        assert result.volunteer is None and result.notice is not None and result.notice.key == "trust_stale"
    finally:
        parts.close()


def test_two_offline_kiosks_overdraw_no_more_than_their_caps(hub: Hub, tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    a, sync_a = make_kiosk(tmp_path, "a", hub, clock)
    b, sync_b = make_kiosk(tmp_path, "b", hub, clock)
    try:
        clock.advance(601)  # both lose the network
        for parts in (a, b):
            water = parts.store.items()[0]
            while parts.service.vend("V1", water, "v").status is LineStatus.DISPENSED:
                pass
        assert sync_a.run_once().ok and sync_b.run_once().ok
        after = hub.balance("V1")
        assert after["balance"] == 50 - 2 * 40  # each kiosk let 40 益币 through, no more
        assert after["balance"] >= 50 - 2 * POLICY.daily_cap
        assert after["flagged"] is True
    finally:
        a.close()
        b.close()
