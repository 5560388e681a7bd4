"""The hub's side of sync: exactly-once push, late arrivals, overdraft, paged pull."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from hub import sync
from hub.app import create_api
from hub.models import LedgerEntry
from hub.service import Hub
from protocol.sync import Ack, Event

HOURS = (
    "record_id,volunteer_id,name,hours,activity,certified_on\n"
    "R1,V1,赵小明,3,a,2026-11-01\nR2,V2,钱秀英,1,a,2026-11-01\n"
).encode()


def redemption(volunteer: str, amount: int, at: int = 1_790_000_000) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": "redemption",
        "volunteer_id": volunteer,
        "amount": amount,
        "at": at,
    }


EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def events(*raw: dict[str, Any]) -> list[Event]:
    return [EVENT.validate_python(e) for e in raw]


def test_the_same_batch_twice_applies_once(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    batch = events(redemption("V1", 15), redemption("V1", 20))
    first = sync.push(hub, kiosk, batch)
    again = sync.push(hub, kiosk, batch)
    assert [a.seq for a in first] == [a.seq for a in again]
    assert [a.duplicate for a in again] == [True, True]
    assert hub.balance("V1") == {"volunteer_id": "V1", "balance": -5, "flagged": True}


def test_concurrent_pushes_of_one_batch_apply_each_event_once(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    batch = events(*[redemption("V1", 1) for _ in range(20)])
    results: list[list[Ack]] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            results.append(sync.push(hub, kiosk, batch))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [a.seq for a in results[0]] == [a.seq for a in results[1]]
    assert hub.balance("V1")["balance"] == 30 - 20


def test_an_overdraft_is_recorded_and_flagged(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    sync.push(hub, kiosk, events(redemption("V2", 15)))  # 10 益币 on the hub: offline overspend
    assert hub.balance("V2") == {"volunteer_id": "V2", "balance": -5, "flagged": True}


def test_pull_pages_by_cursor_with_balances_as_of_the_cursor(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    acks = sync.push(hub, kiosk, events(redemption("V1", 5)))
    page1 = sync.pull(hub, 0, limit=1)
    assert page1.more and page1.volunteers == [("V1", "赵小明", 30)]
    page2 = sync.pull(hub, page1.cursor, limit=1)
    assert page2.volunteers == [("V2", "钱秀英", 10)]
    page3 = sync.pull(hub, page2.cursor, limit=10)
    assert not page3.more and page3.cursor == acks[0].seq
    assert page3.volunteers == [("V1", "赵小明", 25)]
    assert sync.pull(hub, page3.cursor).volunteers == []


def test_the_sync_api_needs_a_kiosk_token(hub: Hub) -> None:
    hub.import_hours(HOURS)
    token = hub.add_kiosk("k1")["token"]
    client = TestClient(create_api(hub))
    assert client.get("/v1/sync/pull").status_code == 401
    assert client.get("/v1/sync/pull", headers={"Authorization": "Bearer nope"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    pushed = client.post("/v1/sync/push", json={"events": [redemption("V1", 15)]}, headers=auth)
    assert pushed.status_code == 200 and pushed.json()["acks"][0]["duplicate"] is False
    bad = client.post("/v1/sync/push", json={"events": [{"id": "x", "kind": "gift"}]}, headers=auth)
    assert bad.status_code == 422
    pulled = client.get("/v1/sync/pull", params={"cursor": 0}, headers=auth).json()
    assert {vid: balance for vid, _, balance in pulled["volunteers"]} == {"V1": 15, "V2": 10}


def test_ledger_writers_commit_in_sequence_order(hub: Hub) -> None:
    """A kiosk that has read seq n must never later find an entry below n appear.

    A writer holds a ledger sequence without committing; a second push must wait for it,
    or a pull between the two commits would move its cursor past the first writer's entry.
    """
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    second: list[list[Ack]] = []
    with hub.unit() as s:
        hub.lock_ledger(s)
        first = LedgerEntry(id=str(uuid.uuid4()), volunteer_id="V1", kind="credit", amount=1, at=0)
        s.add(first)
        s.flush()
        pusher = threading.Thread(
            target=lambda: second.append(sync.push(hub, kiosk, events(redemption("V2", 1))))
        )
        pusher.start()
        pusher.join(timeout=0.5)
        assert pusher.is_alive(), "a second writer committed while the first still held its sequence"
    pusher.join(timeout=30)
    assert second and second[0][0].seq > first.seq
