"""The real client against the simulated board over a real pty: every fault, its outcome.

Each case checks the outcome and that the motor turned exactly once per dispense that
the board executed (never a second turn from a retry).
"""

from __future__ import annotations

import pytest

from drivers.lane_board import codec
from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.simulator import BoardModel, PtyBoard
from drivers.machine import Flag, Outcome


def test_status_reports_the_restart_once(client: LaneBoardClient) -> None:
    first = client.status()
    assert first.alive and first.restarted and first.temperature_c == 4
    assert not client.status().restarted


def test_a_normal_dispense(client: LaneBoardClient, board: BoardModel) -> None:
    progress: list[float] = []
    result = client.dispense(1, on_progress=progress.append)
    assert result.outcome is Outcome.DISPENSED
    assert board.motor_turns == 1 and board.lanes[1].stock == 2
    assert progress[-1] == 1.0


@pytest.mark.parametrize(
    ("fault", "outcome", "flags", "turns"),
    [
        ("empty", Outcome.NOT_DISPENSED, (Flag.NOTHING_DROPPED,), 1),
        ("jammed", Outcome.NOT_DISPENSED, (Flag.MOTOR_DID_NOT_TURN,), 0),
        ("noise", Outcome.DISPENSED, (), 1),
        ("byte_at_a_time", Outcome.DISPENSED, (), 1),
        ("lost_dispense_reply", Outcome.DISPENSED, (), 1),
        ("lost_replies", Outcome.DISPENSED, (), 1),
        ("power_cut", Outcome.UNKNOWN, (Flag.RESTARTED,), 1),
        ("silent", Outcome.UNKNOWN, (Flag.NO_REPLY,), 0),
        ("slow_motor", Outcome.UNKNOWN, (Flag.TIMEOUT,), 1),
    ],
)
def test_fault_matrix(
    client: LaneBoardClient,
    board: BoardModel,
    fault: str,
    outcome: Outcome,
    flags: tuple[Flag, ...],
    turns: int,
) -> None:
    client.status()
    f = board.faults
    if fault == "empty":
        board.lanes[2].stock = 0
    elif fault == "jammed":
        board.lanes[2].jammed = True
    elif fault == "noise":
        f.noise = True
    elif fault == "byte_at_a_time":
        f.byte_at_a_time = True
    elif fault == "lost_dispense_reply":
        f.lose_replies = 1
    elif fault == "lost_replies":
        f.lose_replies = 3  # the DISPENSE reply and two CHECKs
    elif fault == "power_cut":
        f.power_cut_during_turn = True
    elif fault == "silent":
        f.silent = True
    elif fault == "slow_motor":
        f.slow_motor_s = 3.0
        client.dispense_limit_s = 1.0
    result = client.dispense(2)
    assert (result.outcome, result.flags) == (outcome, flags)
    assert board.motor_turns == turns
    dispenses = [r for r in board.executed if r.cmd == 0x70]
    assert len(dispenses) == (0 if fault == "silent" else 1)  # never sent twice to the motor


def test_a_dispense_left_in_flight_is_resolved_by_check(client: LaneBoardClient, board: BoardModel) -> None:
    client.status()
    board.faults.lose_replies = 1
    board.faults.silent = False
    sn = client.next_sn()
    # the host "crashed" after sending: only the board knows; a new run asks with CHECK
    client._send(codec.dispense(sn, 3))
    result = client.resolve(3, sn)
    assert result.outcome is Outcome.DISPENSED and board.motor_turns == 1


def test_unknown_sn_without_restart_means_never_received(client: LaneBoardClient, board: BoardModel) -> None:
    client.status()
    result = client.resolve(4, client.next_sn())  # a dispense the board never saw
    assert (result.outcome, result.flags) == (Outcome.NOT_DISPENSED, (Flag.NOT_RECEIVED,))
    assert board.motor_turns == 0


def test_a_reused_sn_never_counts_as_a_dispense(client: LaneBoardClient, board: BoardModel) -> None:
    client.status()
    remembered = board.remembered
    assert remembered is not None
    result = client.dispense(5, sn=remembered.sn)  # a host that lost its counter
    assert result.outcome is Outcome.NOT_DISPENSED and Flag.NOT_RECEIVED in result.flags
    assert board.motor_turns == 0


def test_a_host_without_its_counter_starts_with_status(board: BoardModel, pty: PtyBoard) -> None:
    first = LaneBoardClient.open(pty.port)
    first.status()
    first.close()
    again = LaneBoardClient.open(pty.port)  # counts from 1 again: SN 1 is the remembered one
    try:
        assert again.status().alive
        assert again.dispense(6).outcome is Outcome.DISPENSED
        assert board.motor_turns == 1
    finally:
        again.close()


@pytest.mark.hardware
def test_hardware_status_round_trip(hw_client: LaneBoardClient) -> None:
    status = hw_client.status()
    assert status.alive, status.last_error


@pytest.mark.hardware
def test_hardware_test_vend_lane_1(hw_client: LaneBoardClient) -> None:
    hw_client.status()
    result = hw_client.dispense(1)
    assert result.outcome is not Outcome.UNKNOWN, result
