"""The kiosk's ledger over the real serial driver, for every fault the board can show.

No charge without a confirmed drop, exactly one motor turn per paid item, and every
unknown outcome left in doubt with its hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard
from kiosk.core.session import LineStatus
from tests.helpers import KioskWorld, make_world


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[KioskWorld, BoardModel]]:
    model = BoardModel({n: LaneState(8) for n in range(1, 9)}, turn_s=0.2)
    board = PtyBoard(model)
    world = make_world(tmp_path, None)
    world.parts.close()
    client = LaneBoardClient.open(board.port, next_sn=world.parts.store.next_sn)
    world = make_world(tmp_path, client)  # the same store, now on the lane board
    yield world, model
    world.parts.close()
    board.close()


FAULTS = {
    "none": (LineStatus.DISPENSED, 1),
    "empty": (LineStatus.FAILED, 1),
    "jammed": (LineStatus.FAILED, 0),
    "noise": (LineStatus.DISPENSED, 1),
    "byte_at_a_time": (LineStatus.DISPENSED, 1),
    "lost_replies": (LineStatus.DISPENSED, 1),
    "power_cut": (LineStatus.UNKNOWN, 1),
    "slow_motor": (LineStatus.UNKNOWN, 1),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_the_ledger_follows_what_dropped(rig: tuple[KioskWorld, BoardModel], fault: str) -> None:
    world, model = rig
    repo, service = world.parts.store, world.parts.service
    item = next(i for i in repo.items() if i.name_en == "Tissues")
    lane = next(lane.number for lane in repo.lanes() if lane.item_id == item.id)
    stock = model.lanes[lane].stock
    f = model.faults
    if fault == "empty":
        model.lanes[lane].stock = 0
    elif fault == "jammed":
        model.lanes[lane].jammed = True
    elif fault in ("noise", "byte_at_a_time"):
        setattr(f, fault, True)
    elif fault == "lost_replies":
        f.lose_replies = 2
    elif fault == "power_cut":
        f.power_cut_during_turn = True
    elif fault == "slow_motor":
        f.slow_motor_s = 2.0
        assert isinstance(world.parts.machine, LaneBoardClient)
        world.parts.machine.dispense_limit_s = 0.8
    report = service.vend("V0001", item, "visit")
    expected, turns = FAULTS[fault]
    assert report.status is expected
    assert model.motor_turns == turns
    kinds = sorted(e.kind.value for e in repo.entries("V0001"))
    dropped = model.lanes[lane].stock < max(stock, 0) if fault != "empty" else False
    if expected is LineStatus.DISPENSED:
        assert kinds == ["charge", "credit", "hold"] and dropped
    elif expected is LineStatus.FAILED:
        assert kinds == ["credit", "hold", "release"]
        assert not next(x for x in repo.lanes() if x.number == lane).enabled  # until a technician clears it
    else:
        assert kinds == ["credit", "hold"]  # the hold stays; a person settles it
        assert len(repo.in_doubt()) == 1
