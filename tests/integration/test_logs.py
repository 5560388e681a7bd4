"""What the kiosk and the hub write to their logs, and what they never write.

A kiosk set up as in the field (``protocol.logs``, its file in the test's folder) syncs with
a real hub over HTTP with its token, a volunteer scans a hub-signed code and takes an item,
a technician types a wrong PIN and the right one and changes a lane: each is one line in
the log, and neither the token, nor the PIN, nor the code, nor a private key is anywhere
in the file. The hub, served by ``kiosk-hub serve``, logs its commands and each request
(uvicorn's access lines) the same way, without the token.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.service import Hub
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.sync import HubClient, HubError, Syncer
from protocol.codes import CodeKind, card_id
from protocol.logs import setup_logging
from tests.helpers import free_port, hub_subprocess

HOURS = "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,赵小明,3,助老,2026-11-01\n"
PIN = "246810"
WRONG_PIN = "135791"


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Parts]:
    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=("timebank-hub",))

    def stock(repo):  # type: ignore[no-untyped-def]
        item = repo.add_item("T7", "抽纸", "Tissues", 15)
        repo.add_lane("T7", 1, item.id, 10, 10)

    parts = bootstrap(config, seed=stock)
    yield parts
    parts.close()


def test_a_vend_a_sync_and_a_pin_entry_are_logged_without_a_secret(
    hub_server: tuple[Hub, str], kiosk: Parts, log_files_here: Path
) -> None:
    path = setup_logging("timebank-kiosk", "kiosk")
    assert path == log_files_here / "kiosk.log"
    hub, url = hub_server
    hub.import_hours(HOURS.encode())
    hub.set_technician("T7", "刘师傅", PIN)
    token = hub.add_kiosk("驿站-1")["token"]
    syncer = Syncer(kiosk.store, HubClient(url, token))
    assert syncer.run_once().ok
    kiosk.service.reload_trust()

    code = hub.issue_code("V1", CodeKind.APP)
    scanned = kiosk.service.scan(code)
    assert scanned.volunteer is not None
    report = kiosk.service.vend("V1", kiosk.store.items()[0], "visit-1")
    assert report.result is not None and report.result.sn is not None
    assert not kiosk.service.check_pin("T7", WRONG_PIN).ok
    assert kiosk.service.check_pin("T7", PIN).ok
    kiosk.service.update_lane("T7", 1, {"stock": 4})
    assert syncer.run_once().ok
    assert not Syncer(kiosk.store, HubClient(f"http://127.0.0.1:{free_port()}", token)).run_once().ok
    # the last line of defence: a careless line that would print the secrets
    careless = logging.getLogger("kiosk.careless")
    careless.warning("request %s", {"Authorization": f"Bearer {token}", "code": code})
    careless.error("stored technician %s", kiosk.store.technician_pin("T7"))
    logging.shutdown()

    text = path.read_text(encoding="utf-8")
    jti = card_id(code)
    assert jti is not None
    lines = text.splitlines()

    def one(fragment: str) -> str:
        found = [line for line in lines if fragment in line]
        assert len(found) == 1, (fragment, found)
        return found[0]

    sn = report.result.sn
    assert one(f"vend: SN {sn}, lane 1, dispensed;").endswith("volunteer V1, visit visit-1")
    assert one(f"scan: app code {jti[:8]} of V1")
    assert one("sync: pushed 2, pulled 1") and one("sync: pushed 4, pulled 1")
    failed = one("sync failed (pushed 0, pulled 0): 中心无法连接 / hub unreachable: connection refused")
    assert " WARNING " in failed
    assert one("tech_pin_wrong by T7 on tech:T7") and one("tech_login by T7 on tech:T7")
    assert one('lane_changed by T7 on lane:1: {"stock": 9} → {"stock": 4}')
    assert one(f"'code': '[code {jti[:8]}]'") and one("'Authorization': 'Bearer [redacted]'")
    assert one("stored technician ('scrypt$[redacted]'")
    for secret in (token, PIN, WRONG_PIN, code, code.split(".")[2], "PRIVATE KEY"):
        assert secret not in text


def run_hub(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", "--db", db, *args], capture_output=True, text=True, timeout=60
    )


def test_the_hub_logs_its_commands_and_requests_without_the_token(
    tmp_path: Path, log_files_here: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    (tmp_path / "hours.csv").write_text(HOURS, encoding="utf-8")
    assert run_hub(db, "import-hours", str(tmp_path / "hours.csv")).returncode == 0
    added = run_hub(db, "kiosk", "add", "驿站-9")
    token = added.stdout.split('"token": "')[1].split('"')[0]
    with hub_subprocess(db, options=("--log-level", "info")) as url:
        HubClient(url, token).pull(0, 10)
        with pytest.raises(HubError, match="HTTP 401"):
            HubClient(url, token + "x").pull(0, 10)
    text = (log_files_here / "hub.log").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert any(f"kiosk-hub import-hours {tmp_path / 'hours.csv'} on {db}" in line for line in lines)
    assert any("import-hours" in line and "imported 1, duplicates 0, refused 0" in line for line in lines)
    assert any("kiosk-hub kiosk add 驿站-9: exit 0" in line for line in lines)
    assert any("kiosk-hub serve" in line for line in lines)
    access = [line for line in lines if "uvicorn.access" in line]
    assert any('"GET /v1/sync/pull?cursor=0&limit=10 HTTP/1.1" 200' in line for line in access), access
    assert any('"GET /v1/sync/pull?cursor=0&limit=10 HTTP/1.1" 401' in line for line in access), access
    assert token not in text and "Bearer" not in text
