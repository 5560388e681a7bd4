"""Kiosks' audit entries and status reports at the hub; technicians synced down."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select

from hub import sync
from hub.models import KioskEvent
from hub.service import Hub
from protocol.pins import pin_matches
from protocol.sync import Event

EVENT: TypeAdapter[Event] = TypeAdapter(Event)
AT = 1_790_000_000


def record(kind: str, at: int, **body: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "at": at, "body": body}


def audit_rows(hub: Hub) -> int:
    with hub.unit() as s:
        return int(s.scalar(select(func.count()).select_from(KioskEvent)) or 0)


def test_an_audit_entry_is_applied_once(hub: Hub) -> None:
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    entry = EVENT.validate_python(
        record("audit", AT + 100, actor="T1", action="lane_updated", target="lane:1")
    )
    first = sync.push(hub, kiosk, [entry])
    again = sync.push(hub, kiosk, [entry])
    assert first[0].duplicate is False and again[0].duplicate is True
    assert first[0].seq == again[0].seq > 0
    assert audit_rows(hub) == 1


def test_the_newest_status_report_is_kept_whatever_order_they_arrive_in(hub: Hub) -> None:
    kiosk = hub.add_kiosk("驿站-1")["kiosk_id"]
    newer = record("status", AT + 200, lanes=[{"lane": 1, "stock": 3}], in_doubt=0)
    older = record("status", AT + 100, lanes=[{"lane": 1, "stock": 9}], in_doubt=1)
    sync.push(hub, kiosk, [EVENT.validate_python(newer)])
    sync.push(hub, kiosk, [EVENT.validate_python(older)])  # a late arrival
    (listed,) = hub.kiosks()
    assert listed["name"] == "驿站-1" and listed["status"]["lanes"] == [{"lane": 1, "stock": 3}]
    assert audit_rows(hub) == 0  # a status report is not an audit entry


def test_a_mixed_batch_acknowledges_every_event(hub: Hub) -> None:
    hub.import_hours(b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,2,a,2026-11-01\n")
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    raw = [
        {"id": str(uuid.uuid4()), "kind": "redemption", "volunteer_id": "V1", "amount": 15, "at": AT + 1},
        record("audit", AT + 2, actor="T1", action="refill", target="lane:*"),
        record("status", AT + 3, lanes=[]),
    ]
    acks = sync.push(hub, kiosk, [EVENT.validate_python(e) for e in raw])
    assert [a.id for a in acks] == [e["id"] for e in raw]
    assert hub.balance("V1")["balance"] == 5


@pytest.mark.parametrize(
    "bad",
    [
        {"id": str(uuid.uuid4()), "kind": "audit", "at": 1},  # no body
        {"id": str(uuid.uuid4()), "kind": "status", "at": 1, "body": "stock"},
        {"id": str(uuid.uuid4()), "kind": "gift", "at": 1, "body": {}},
    ],
)
def test_bad_records_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EVENT.validate_python(bad)


def test_technicians_are_pulled_and_removed_ones_are_not(hub: Hub) -> None:
    hub.set_technician("T1", "刘师傅", "246810")
    hub.set_technician("T2", "陈师傅", "135790")
    hub.remove_technician("T2")
    (tech,) = sync.pull(hub, 0).technicians
    assert tech.id == "T1" and tech.name == "刘师傅" and pin_matches("246810", tech.pin_hash)
    with pytest.raises(ValueError, match="6 to 8 digits"):
        hub.set_technician("T3", "王", "2468")


def test_technician_and_kiosk_list_commands(hub_url: str) -> None:
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "--db", hub_url, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = run("tech", "add", "T1", "刘师傅", stdin="246810\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"technician": "T1", "active": True}
    short = run("tech", "add", "T2", "陈师傅", stdin="12\n")
    assert short.returncode == 2 and "6 to 8 digits" in short.stderr
    assert run("tech", "remove", "nobody").returncode == 2
    run("kiosk", "add", "驿站-1")
    listed = json.loads(run("kiosk", "list").stdout)
    assert [k["name"] for k in listed] == ["驿站-1"] and listed[0]["status"] is None
