"""``kiosk-hub serve --workers 2``: each worker process gets the settings and the key the command resolved."""

from __future__ import annotations

import json
import stat
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from hub.db import migrate, open_engine
from hub.service import Hub
from tests.helpers import hub_subprocess

HOURS = b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,3,a,2026-11-01\n"


def post(url: str, body: bytes, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_worker_processes_take_the_limits_and_the_key_encryption_key_from_the_command(
    tmp_path: Path, hub_key_file: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = open_engine(db)
    migrate(engine)
    hub = Hub(engine)
    hub.import_hours(HOURS)
    token = hub.add_kiosk("驿站-1")["token"]
    event = {
        "id": str(uuid.uuid4()),
        "kind": "redemption",
        "volunteer_id": "V1",
        "amount": 5,
        "at": int(time.time()),
    }
    small = json.dumps({"protocol": 2, "events": [event]}).encode()
    with hub_subprocess(db, workers=2, options=("--max-body-bytes", str(len(small) + 10))) as base:
        assert stat.S_IMODE(hub_key_file.stat().st_mode) == 0o600  # made on first use, by the command
        with urllib.request.urlopen(base + "/v1/jwks", timeout=30) as reply:
            assert len(json.load(reply)["keys"]) == 1
        status, _ = post(base + "/v1/sync/push", small, token)
        assert status == 200
        big = json.dumps({"protocol": 2, "events": [event, event]}).encode()
        status, body = post(base + "/v1/sync/push", big, token)
        assert (
            status == 413 and json.loads(body)["detail"] == f"the body is larger than {len(small) + 10} bytes"
        )
    assert hub.balance("V1")["balance"] == 25
    engine.dispose()
