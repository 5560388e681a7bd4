"""What the board's answers prove about a dispense, over a real pty (``client.py``'s rule).

The board remembers only the last request it executed. After a restart the kiosk asks
about its dispense's SN; when the board does not know it, only the board's memory of the
SN the kiosk sent just before (its STATUS) proves the DISPENSE never ran. Whatever erased
that memory (another host's request, a power cut whose restarted bit another host's
STATUS then cleared) leaves the dispense in doubt: the item may well have dropped.
"""

from __future__ import annotations

from drivers.lane_board import codec
from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.simulator import BoardModel, PtyBoard
from drivers.machine import DispenseResult, Flag, Outcome


def kiosk_run(pty: PtyBoard, lane: int, *, first_sn: int = 0) -> DispenseResult:
    """A kiosk that checks the board, dispenses, and stops before settling (the port then closes)."""
    sns = iter(range(first_sn + 1, first_sn + 100))
    kiosk = LaneBoardClient.open(pty.port, next_sn=lambda: next(sns))
    try:
        assert kiosk.status().alive
        return kiosk.dispense(lane)
    finally:
        kiosk.close()


def another_host(pty: PtyBoard, *requests: codec.Request) -> None:
    host = LaneBoardClient.open(pty.port)
    try:
        for request in requests:
            host.transact(request)
    finally:
        host.close()


def recover(pty: PtyBoard, lane: int, sn: int | None) -> DispenseResult:
    kiosk = LaneBoardClient.open(pty.port)
    try:
        return kiosk.resolve(lane, sn)
    finally:
        kiosk.close()


def test_untouched_the_board_proves_the_drop(pty: PtyBoard, board: BoardModel) -> None:
    sn = kiosk_run(pty, 3).sn
    assert recover(pty, 3, sn).outcome is Outcome.DISPENSED


def test_another_hosts_status_leaves_a_dropped_item_in_doubt(pty: PtyBoard, board: BoardModel) -> None:
    dropped = kiosk_run(pty, 3, first_sn=40)
    assert dropped.outcome is Outcome.DISPENSED and dropped.sn == 42
    another_host(pty, codec.status(9))  # a wiring check outside the kiosk's counter
    result = recover(pty, 3, dropped.sn)
    assert (result.outcome, result.flags) == (Outcome.UNKNOWN, (Flag.FORGOTTEN,))
    assert board.motor_turns == 1


def test_another_hosts_dispense_leaves_a_dropped_item_in_doubt(pty: PtyBoard, board: BoardModel) -> None:
    dropped = kiosk_run(pty, 3, first_sn=40)
    another_host(pty, codec.status(100), codec.dispense(101, 5))
    assert recover(pty, 3, dropped.sn).outcome is Outcome.UNKNOWN


def test_a_power_cut_hidden_by_another_hosts_status_is_in_doubt(pty: PtyBoard, board: BoardModel) -> None:
    """The restarted bit alone is no proof: the first STATUS after power-up clears it, whoever sends it."""
    board.faults.power_cut_during_turn = True  # the item fell, then the board lost power
    lost = kiosk_run(pty, 3, first_sn=40)
    assert (lost.outcome, lost.flags) == (Outcome.UNKNOWN, (Flag.RESTARTED,))
    board.faults.power_cut_during_turn = True
    board.lanes[4].stock = 3
    lost = kiosk_run(pty, 4, first_sn=60)  # killed before it could ask: the board restarted
    another_host(pty, codec.status(9))  # takes the restarted bit with it
    result = recover(pty, 4, lost.sn)
    assert result.outcome is Outcome.UNKNOWN and board.lanes[4].stock == 2


def test_another_hosts_request_under_the_dispenses_sn_is_no_proof(pty: PtyBoard, board: BoardModel) -> None:
    dropped = kiosk_run(pty, 3, first_sn=40)
    assert dropped.sn is not None
    another_host(pty, codec.status(9), codec.status(dropped.sn))  # now SN 42 is a STATUS
    result = recover(pty, 3, dropped.sn)
    assert (result.outcome, result.flags) == (Outcome.UNKNOWN, (Flag.FORGOTTEN,))


def test_a_dispense_that_never_arrived_is_proven_by_the_sn_before(pty: PtyBoard, board: BoardModel) -> None:
    kiosk = LaneBoardClient.open(pty.port)
    try:
        kiosk.status()  # SN 1: the board remembers it
    finally:
        kiosk.close()
    result = recover(pty, 4, 2)  # the kiosk stopped after recording SN 2, before sending it
    assert (result.outcome, result.flags) == (Outcome.NOT_DISPENSED, (Flag.NOT_RECEIVED,))
    assert board.motor_turns == 0 and [r.cmd for r in board.executed] == [codec.Cmd.STATUS]


def test_the_sn_before_wraps_from_1_to_255(pty: PtyBoard, board: BoardModel) -> None:
    another_host(pty, codec.status(255))
    assert codec.previous_sn(1) == 255 and codec.previous_sn(2) == 1 and codec.next_sn(255) == 1
    assert recover(pty, 4, 1).outcome is Outcome.NOT_DISPENSED


def test_a_lost_dispense_frame_is_proven_live(client: LaneBoardClient, board: BoardModel) -> None:
    """While the kiosk holds the port, the same rule still finds a DISPENSE lost on the wire."""
    client.status()
    board.faults.lose_requests = 1
    result = client.dispense(2)
    assert (result.outcome, result.flags) == (Outcome.NOT_DISPENSED, (Flag.NOT_RECEIVED,))
    assert board.motor_turns == 0


def test_a_silent_board_at_recovery_is_in_doubt(pty: PtyBoard, board: BoardModel) -> None:
    sn = kiosk_run(pty, 3).sn
    board.faults.silent = True
    assert recover(pty, 3, sn).flags == (Flag.NO_REPLY,)
