"""Pushes that arrive together are applied together, and each is still answered as its own."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hub import sync
from hub.service import Hub
from protocol.sync import Ack, RedemptionEvent

HOURS = (
    "record_id,volunteer_id,name,hours,activity,certified_on\n"
    "R1,V1,赵小明,3,a,2026-11-01\nR2,V2,钱秀英,3,a,2026-11-01\n"
).encode()
AT = 1_790_000_000


def redemption(volunteer: str, amount: int = 1, event_id: str | None = None) -> RedemptionEvent:
    return RedemptionEvent(
        kind="redemption", id=event_id or str(uuid.uuid4()), volunteer_id=volunteer, amount=amount, at=AT
    )


class HeldGroups:
    """Wraps the group transaction: records each group's batches, holds the first until released."""

    def __init__(self, poison: str | None = None) -> None:
        self.release = threading.Event()
        self.sizes: list[int] = []
        self.poison = poison
        self.real = sync._apply_ledger_events

    def __call__(self, hub: Hub, group: list[Any]) -> Any:
        self.sizes.append(len(group))
        if len(self.sizes) == 1:
            assert self.release.wait(30)
        if self.poison and any(e.volunteer_id == self.poison for b in group for e in b.events):
            raise RuntimeError("a batch the database refuses")
        return self.real(hub, group)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., HeldGroups]]:
    def make(poison: str | None = None) -> HeldGroups:
        wrapper = HeldGroups(poison)
        monkeypatch.setattr(sync, "_apply_ledger_events", wrapper)
        return wrapper

    yield make


def pushing(
    hub: Hub, kiosk: str, batches: list[list[RedemptionEvent]], groups: HeldGroups
) -> tuple[list[Any], list[threading.Thread]]:
    """Each batch pushed from its own thread: the first leads (and is held), the others queue in order."""
    results: list[Any] = [None] * len(batches)

    def go(i: int) -> None:
        try:
            results[i] = sync.push(hub, kiosk, batches[i])
        except Exception as exc:
            results[i] = exc

    threads = []
    for i in range(len(batches)):
        threads.append(threading.Thread(target=go, args=(i,)))
        threads[-1].start()
        deadline = time.monotonic() + 10
        queue = sync._group_commit(hub).queue
        while time.monotonic() < deadline and (len(queue), len(groups.sizes)) != (i, 1):
            time.sleep(0.005)
        assert (len(queue), len(groups.sizes)) == (i, 1)
    return results, threads


def test_batches_that_arrive_during_a_group_go_in_together(hub: Hub, held: Callable[..., HeldGroups]) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    groups = held()
    batches = [
        [redemption("V1")],
        [redemption("V1"), redemption("V2")],
        [redemption("V2", 2)],
        [redemption("V9")],
    ]
    results, threads = pushing(hub, kiosk, batches, groups)
    groups.release.set()
    for t in threads:
        t.join(30)
    assert groups.sizes == [1, 3]  # the first alone, the three that queued behind it in one transaction
    for batch, acks in zip(batches, results, strict=True):
        assert [a.id for a in acks] == [e.id for e in batch] and not any(a.duplicate for a in acks)
    seqs = [a.seq for acks in results[:3] for a in acks]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4  # applied in the order they arrived
    assert hub.balance("V1")["balance"] == 30 - 2 and hub.balance("V2")["balance"] == 30 - 3
    (stranger,) = results[3]  # a volunteer the hub does not know: refused, and the others not held up
    assert (stranger.seq, stranger.refused) == (0, "unknown_volunteer")
    assert [q["event_id"] for q in hub.quarantined()] == [stranger.id]


def test_an_event_in_two_batches_of_one_group_is_applied_once(
    hub: Hub, held: Callable[..., HeldGroups]
) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    groups = held()
    same = str(uuid.uuid4())
    batches = [[redemption("V1")], [redemption("V1", event_id=same)], [redemption("V1", event_id=same)]]
    results, threads = pushing(hub, kiosk, batches, groups)
    groups.release.set()
    for t in threads:
        t.join(30)
    assert groups.sizes == [1, 2]
    first: Ack = results[1][0]
    again: Ack = results[2][0]
    assert first.seq == again.seq and (first.duplicate, again.duplicate) == (False, True)
    assert hub.balance("V1")["balance"] == 30 - 2


def test_a_batch_that_fails_fails_only_its_own_push(hub: Hub, held: Callable[..., HeldGroups]) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    groups = held(poison="BAD")
    batches = [[redemption("V1")], [redemption("V1")], [redemption("BAD")], [redemption("V2")]]
    results, threads = pushing(hub, kiosk, batches, groups)
    groups.release.set()
    for t in threads:
        t.join(30)
    assert groups.sizes == [1, 3, 1, 1, 1]  # the group failed: each of its batches tried alone
    assert isinstance(results[2], RuntimeError)
    assert all(isinstance(r, list) and len(r) == 1 for i, r in enumerate(results) if i != 2)
    assert hub.balance("V1")["balance"] == 30 - 2 and hub.balance("V2")["balance"] == 30 - 1
    assert not sync._group_commit(hub).queue and not sync._group_commit(hub).busy


def test_an_overdraft_check_that_fails_is_done_when_the_kiosk_sends_again(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    real = sync._flag_overdrafts

    def broken(hub: Hub, batches: list[Any]) -> None:
        raise RuntimeError("connection lost after the commit")

    monkeypatch.setattr(sync, "_flag_overdrafts", broken)
    batch = [redemption("V1", 40)]  # 30 益币 on the hub: an overdraft
    with pytest.raises(RuntimeError):
        sync.push(hub, kiosk, batch)  # applied, but never answered
    monkeypatch.setattr(sync, "_flag_overdrafts", real)
    (ack,) = sync.push(hub, kiosk, batch)  # the kiosk sends it again
    assert ack.duplicate
    assert hub.balance("V1") == {"volunteer_id": "V1", "balance": -10, "flagged": True}


def test_an_overdraft_is_judged_as_of_the_group_not_later_credits(hub: Hub) -> None:
    hub.import_hours(HOURS)
    kiosk = hub.add_kiosk("k1")["kiosk_id"]
    sync.push(hub, kiosk, [redemption("V1", 20)])
    assert hub.balance("V1") == {"volunteer_id": "V1", "balance": 10, "flagged": False}
    sync.push(hub, kiosk, [redemption("V1", 15), redemption("V2", 5)])
    assert hub.balance("V1") == {"volunteer_id": "V1", "balance": -5, "flagged": True}
    assert hub.balance("V2") == {"volunteer_id": "V2", "balance": 25, "flagged": False}
