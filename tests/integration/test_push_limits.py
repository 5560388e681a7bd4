"""A kiosk pushing faster than the hub allows keeps what went up and comes back when the hub says."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import create_api
from hub.service import Hub
from hub.settings import Limits
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.sync import Backoff, HubClient, Syncer
from tests.helpers import serving


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Parts]:
    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=("timebank-hub",))

    def stock(repo):  # type: ignore[no-untyped-def]
        item = repo.add_item("tech", "抽纸", "Tissues", 15)
        repo.add_lane("tech", 1, item.id, 10, 10)  # two technician changes wait in the outbox

    parts = bootstrap(config, seed=stock)
    yield parts
    parts.close()


def test_a_429_keeps_what_went_up_and_the_kiosk_waits_as_long_as_the_hub_asks(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, _ = hub_server
    token = hub.add_kiosk("驿站-1")["token"]
    with serving(create_api(hub, Limits(push_per_minute=6, push_burst=2))) as url:
        syncer = Syncer(kiosk.store, HubClient(url, token), batch=1)
        report = syncer.run_once()  # two batches of one go up; the status report is one push too many
    assert not report.ok and report.retry_after_s == 10.0
    assert "429" in (report.error or "") and report.as_json()["retry_after_s"] == 10.0
    assert kiosk.store.pending_events(10) == []  # both acknowledged and kept
    backoff = Backoff(60.0, rng=random.Random(1))
    assert 10.0 <= backoff.after(report.ok, report.retry_after_s) <= 12.0
