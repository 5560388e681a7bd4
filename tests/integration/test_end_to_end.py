"""The whole chain as people use it: the hub's operator, a volunteer at the kiosk, the sync.

The hub runs as ``kiosk-hub serve`` in its own process and is operated with its
commands; the kiosk is the real GUI (offscreen) with the simulated cabinet, syncing in
the background. Hours are imported, the volunteer scans a code the hub signed, takes a
pack of tissues, and the hub's balance drops by its price exactly once, however many
syncs follow.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from kiosk.core.session import Step
from tests.helpers import WallClock, make_app
from tests.ui.conftest import Driver

HOURS = "志愿者编号,姓名,服务时长,活动名称,认定日期,记录编号\nV1,赵小明,3,助老,2026-11-01,R1\n"


def hub_cli(db: str, *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "hub", "--db", db, *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout.strip()
    return json.loads(text) if text.startswith("{") else text


def test_hours_to_hub_to_kiosk_to_hub(qtbot: Any, hub_process: tuple[str, str], tmp_path: Path) -> None:
    db, url = hub_process
    hours = tmp_path / "hours.csv"
    hours.write_bytes(b"\xef\xbb\xbf" + HOURS.encode())
    assert hub_cli(db, "import-hours", str(hours))["imported"] == 1
    token = hub_cli(db, "kiosk", "add", "幸福里社区-1")["token"]

    clock = WallClock()  # the hub signs with the wall clock: the kiosk reads the same one
    app, codes, _ = make_app(
        tmp_path / "kiosk",
        clock=clock,
        issuers=("timebank-hub",),
        hub_url=url,
        hub_token=token,
        sync_interval_s=0.3,
    )
    try:
        app.window.resize(1280, 800)
        app.window.show()
        qtbot.waitUntil(lambda: app.parts.store.balance("V1").available == 30, timeout=15000)
        with urllib.request.urlopen(url + "/v1/jwks", timeout=10) as answer:
            kid = json.loads(answer.read())["keys"][0]["kid"]
        qtbot.waitUntil(lambda: kid in app.parts.service.verifier.trust.kids, timeout=15000)

        kiosk = Driver(app, codes, clock, qtbot)
        kiosk.scan(hub_cli(db, "code", "issue", "V1"))
        assert app.session.step is Step.IDENTIFIED
        assert kiosk.w.catalog.greeting.text() == "您好，赵**"
        assert kiosk.w.catalog.balance.text() == "30"
        kiosk.buy("Tissues")
        assert kiosk.w.result.balance.text() == "余额 15 益币"
        assert app.parts.simulator is not None and app.parts.simulator.motor_turns == 1

        qtbot.waitUntil(lambda: app.parts.store.queued_events() == 0, timeout=15000)
        assert hub_cli(db, "balance", "V1") == {"volunteer_id": "V1", "balance": 15, "flagged": False}
        # the hub's ledger: the credit (seq 1) and the redemption (seq 2); a status report
        # saying the kiosk's cursor reached 2 was sent by a later sync than the one that pushed
        qtbot.waitUntil(lambda: (hub_kiosks(db)[0]["status"] or {}).get("sync_cursor") == 2, timeout=15000)
        assert hub_cli(db, "balance", "V1")["balance"] == 15  # once, whatever the syncs since
        assert app.parts.store.balance("V1").available == 15  # the charge now inside the hub's balance
        assert hub_kiosks(db)[0]["name"] == "幸福里社区-1"
    finally:
        app.close()


def hub_kiosks(db: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "hub", "--db", db, "kiosk", "list"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))
