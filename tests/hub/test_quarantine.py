"""Refused events never reach the ledger: they wait in the quarantine, and the kiosk is told why.

Each test runs on SQLite and on PostgreSQL (``tests/hub/conftest.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select

from hub import sync
from hub.ingest import MAX_AMOUNT_ENV, EventLimits
from hub.models import KioskEvent, LedgerEntry, Quarantined, Volunteer
from hub.service import Hub
from protocol.sync import INT32_MAX, Ack, Event

HOURS = (
    "record_id,volunteer_id,name,hours,activity,certified_on\n"
    "R1,V1,赵小明,3,a,2026-11-01\nR2,V2,钱秀英,3,a,2026-11-01\n"
).encode()
AT = 1_790_000_000
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def ev(kind: str = "redemption", **fields: Any) -> Event:
    raw: dict[str, Any] = {"id": str(uuid.uuid4()), "kind": kind, "at": AT}
    if kind == "audit":
        raw["body"] = {"actor": "T1", "action": "lane_changed", "target": "lane:1", "after": {"stock": 3}}
    elif kind == "status":
        raw["body"] = {"lanes": []}
    else:
        raw.update(volunteer_id="V1", amount=5)
    raw.update(fields)
    return EVENT.validate_python(raw)


def ledger(hub: Hub) -> list[tuple[str, int]]:
    with hub.unit() as s:
        return [(str(k), int(a)) for k, a in s.execute(select(LedgerEntry.kind, LedgerEntry.amount))]


def held(hub: Hub) -> int:
    with hub.unit() as s:
        return int(s.scalar(select(func.count()).select_from(Quarantined)) or 0)


def refused(acks: list[Ack]) -> list[str | None]:
    return [a.refused for a in acks]


def test_the_numbers_of_an_event_are_bounded_and_a_refused_one_never_reaches_the_ledger(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    before = ledger(hub)
    huge = [ev(amount=INT32_MAX), ev(amount=INT32_MAX)]  # two of them once broke every kiosk's pull
    late = ev(at=AT - 40 * 86_400)  # an offline kiosk's charge, weeks late: kept
    acks = sync.push(hub, kiosk, [*huge, ev(amount=10_001), ev(at=2_000_000_000), ev(at=1_000), late])
    assert refused(acks) == ["amount_over_limit"] * 3 + ["at_out_of_window"] * 2 + [None]
    assert [a.seq for a in acks[:5]] == [0] * 5 and acks[5].seq > 0
    assert ledger(hub) == [*before, ("redemption", -5)]
    assert hub.balance("V1")["balance"] == 25 and sync.pull(hub, 0).volunteers[0] == ("V1", "赵小明", 25)
    assert held(hub) == 5


def test_the_per_event_limit_is_the_hubs_setting(db_url: str, hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    strict = Hub(hub.engine, limits=EventLimits(max_amount=4))
    assert refused(sync.push(strict, kiosk, [ev(amount=4), ev(amount=5)])) == [None, "amount_over_limit"]
    bad = subprocess.run(
        [sys.executable, "-m", "hub", "--db", db_url, "quarantine"],
        env={**os.environ, MAX_AMOUNT_ENV: "lots"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and MAX_AMOUNT_ENV in bad.stderr


def test_no_kiosk_creates_益币_from_nothing(hub: Hub) -> None:
    hub.import_hours(HOURS)
    k1, k2 = hub.add_kiosk("k1")["kiosk_id"], hub.add_kiosk("k2")["kiosk_id"]
    charge = ev(amount=15)
    assert refused(sync.push(hub, k1, [charge])) == [None]
    attempts = [
        ev("reversal", amount=9_000),  # names no charge (every reversal before protocol 3)
        ev("reversal", amount=5, reverses=str(uuid.uuid4())),  # a charge the hub never saw
        ev("reversal", amount=16, reverses=charge.id),  # more than was charged
        ev("reversal", volunteer_id="V2", amount=15, reverses=charge.id),  # someone else's
        ev("reversal", volunteer_id="V404", amount=15, reverses=charge.id),  # a stranger
        ev("redemption", volunteer_id="V404", amount=1),
    ]
    expected = [
        "charge_not_named",
        "no_such_charge",
        "reversal_exceeds_charge",
        "no_such_charge",
        "unknown_volunteer",
        "unknown_volunteer",
    ]
    assert refused(sync.push(hub, k1, attempts)) == expected
    assert refused(sync.push(hub, k2, [ev("reversal", amount=15, reverses=charge.id)])) == ["no_such_charge"]
    assert hub.balance("V1")["balance"] == 30 - 15 and hub.balance("V2")["balance"] == 30
    with hub.unit() as s:
        assert s.get(Volunteer, "V404") is None  # no stranger is made up
    back = ev("reversal", amount=15, reverses=charge.id)
    assert refused(sync.push(hub, k1, [back, ev("reversal", amount=1, reverses=charge.id)])) == [
        None,
        "already_reversed",
    ]
    assert hub.balance("V1")["balance"] == 30
    with hub.unit() as s:
        entry = s.scalars(select(LedgerEntry).where(LedgerEntry.event_id == back.id)).one()
        assert (entry.kind, entry.amount, entry.reverses) == ("reversal", 15, charge.id)
    assert held(hub) == 8


def test_a_charge_and_its_refund_in_one_push_are_both_applied(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    charge = ev(amount=15)
    acks = sync.push(hub, kiosk, [charge, ev("reversal", amount=15, reverses=charge.id)])
    assert refused(acks) == [None, None] and 0 < acks[0].seq < acks[1].seq
    assert hub.balance("V1")["balance"] == 30


def test_a_refused_event_sent_again_is_refused_again_and_kept_once(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("驿站-1")["kiosk_id"]
    stranger = ev(volunteer_id="V404")
    (first,) = sync.push(hub, kiosk, [stranger])
    (again,) = sync.push(hub, kiosk, [stranger])  # its acknowledgement was lost on the way
    assert (first.refused, first.duplicate) == ("unknown_volunteer", False)
    assert (again.refused, again.duplicate, again.seq) == ("unknown_volunteer", True, 0)
    (listed,) = hub.quarantined()
    assert listed["reason"] == "unknown_volunteer" and listed["kiosk"] == "驿站-1"
    assert listed["event"] == stranger.model_dump(mode="json", exclude_unset=True)
    (shown,) = hub.kiosks()
    assert shown["quarantined"] == 1


def test_the_same_id_with_other_content_is_a_conflict(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    original = ev(amount=5)
    forged = EVENT.validate_python({**original.model_dump(exclude_none=True), "amount": 15})
    (applied,) = sync.push(hub, kiosk, [original])
    (same,) = sync.push(hub, kiosk, [original])
    (other,) = sync.push(hub, kiosk, [forged])
    assert (same.seq, same.duplicate, same.refused) == (applied.seq, True, None)
    assert (other.seq, other.duplicate, other.refused) == (0, False, "conflict")
    assert hub.balance("V1")["balance"] == 25
    (listed,) = hub.quarantined()
    assert listed["reason"] == "conflict" and listed["event"]["amount"] == 15
    audit = ev("audit")
    changed = EVENT.validate_python({**audit.model_dump(exclude_none=True), "at": AT + 1})
    assert refused(sync.push(hub, kiosk, [audit, changed, audit])) == [None, "conflict", None]
    with hub.unit() as s:
        digests = s.execute(select(LedgerEntry.digest).where(LedgerEntry.event_id == original.id)).scalars()
        assert [len(d or "") for d in digests] == [64]
        assert len(s.scalars(select(KioskEvent.digest)).one() or "") == 64


def test_audit_entries_and_status_reports_are_judged_by_their_time(hub: Hub) -> None:
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    future = ev("audit", at=2_000_000_000)
    status = ev("status", at=2_000_000_000)
    assert refused(sync.push(hub, kiosk, [future, status])) == ["at_out_of_window"] * 2
    assert held(hub) == 1  # the audit entry; the status report is replaced by the next one anyway
    assert hub.kiosks()[0]["status"] is None


def test_concurrent_pushes_of_audit_entries_each_get_their_acks(hub: Hub) -> None:
    """Two kiosks' retries overlap: the same audit entries pushed from many threads at once."""
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    batch = [ev("audit") for _ in range(20)] + [ev(amount=1) for _ in range(5)]
    start = threading.Barrier(8)
    results: list[list[Ack]] = []
    errors: list[BaseException] = []

    def go() -> None:
        start.wait()
        try:
            results.append(sync.push(hub, kiosk, batch))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 8
    assert all([a.seq for a in acks] == [a.seq for a in results[0]] for acks in results)
    assert all(a.seq > 0 and a.refused is None for acks in results for a in acks)
    assert sum(not a.duplicate for acks in results for a in acks) == len(batch)  # each applied once
    with hub.unit() as s:
        assert s.scalar(select(func.count()).select_from(KioskEvent)) == 20
    assert hub.balance("V1")["balance"] == 30 - 5


def test_the_quarantine_command_lists_what_was_refused(db_url: str, hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("驿站-1")["kiosk_id"]
    sync.push(hub, kiosk, [ev(volunteer_id="V404"), ev(amount=20_000)])
    done = subprocess.run(
        [sys.executable, "-m", "hub", "--db", db_url, "quarantine"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert sorted((q["reason"], q["kiosk"]) for q in listed) == [
        ("amount_over_limit", "驿站-1"),
        ("unknown_volunteer", "驿站-1"),
    ]


def test_what_another_worker_applied_meanwhile_is_read_back_under_the_lock(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facts are read before the ledger's lock; the insert's ON CONFLICT catches the rest."""
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    charge, other = ev(amount=15), ev(amount=3)
    back = ev("reversal", amount=15, reverses=charge.id)
    sync.push(hub, kiosk, [charge, other, back])
    real = sync.ledger_facts

    def stale(con: Any, events: Any) -> Any:  # as read just before another worker committed
        facts = real(con, events)
        facts.applied.clear()
        facts.charges = {k: dataclasses.replace(c, reversed=False) for k, c in facts.charges.items()}
        return facts

    monkeypatch.setattr(sync, "ledger_facts", stale)
    forged = EVENT.validate_python({**other.model_dump(exclude_none=True), "amount": 4})
    twice = ev("reversal", amount=15, reverses=charge.id)
    acks = sync.push(hub, kiosk, [charge, forged, twice])
    assert [(a.duplicate, a.refused) for a in acks] == [
        (True, None),
        (False, "conflict"),
        (False, "already_reversed"),
    ]
    assert hub.balance("V1")["balance"] == 30 - 3
    assert sorted(q["reason"] for q in hub.quarantined()) == ["already_reversed", "conflict"]


def test_a_repeat_is_acknowledged_as_applied_whatever_todays_limits(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    sold = [ev(amount=5), ev(amount=6)]
    first = sync.push(hub, kiosk, sold)
    stricter = Hub(hub.engine, limits=EventLimits(max_amount=4))  # the operator lowered the limit since
    again = sync.push(stricter, kiosk, [*sold, ev(amount=5)])  # the acks were lost: sent again
    assert [(a.seq, a.duplicate, a.refused) for a in again[:2]] == [(a.seq, True, None) for a in first]
    assert (again[2].seq, again[2].refused) == (0, "amount_over_limit")
    assert hub.balance("V1")["balance"] == 30 - 11 and held(hub) == 1
