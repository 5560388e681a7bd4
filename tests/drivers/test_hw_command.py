"""``kiosk hw``: field diagnostics against the simulated board on a real pty."""

from __future__ import annotations

import json
import subprocess
import sys

from drivers.lane_board.simulator import BoardModel, PtyBoard


def hw(*args: str) -> tuple[int, dict[str, object] | None, str]:
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "hw", *args], capture_output=True, text=True, timeout=60
    )
    body = json.loads(out.stdout) if out.stdout.strip() else None
    return out.returncode, body, out.stderr


def test_status(pty: PtyBoard) -> None:
    code, body, _ = hw("--board", "lane", "--port", pty.port, "status")
    assert code == 0 and body is not None
    assert (body["alive"], body["temperature_c"], body["restarted"]) == (True, 4, True)


def test_vend_outcomes_and_exit_codes(pty: PtyBoard, board: BoardModel) -> None:
    code, body, _ = hw("--port", pty.port, "vend", "1")
    assert (code, body is not None and body["outcome"]) == (0, "dispensed")
    board.lanes[2].stock = 0
    code, body, _ = hw("--port", pty.port, "vend", "2")  # a new run: SN counting from 1 again
    assert code == 1 and body == {
        "outcome": "not_dispensed",
        "flags": ["drop_sensor_saw_nothing"],
        "sn": body["sn"],
    }
    board.faults.power_cut_during_turn = True
    code, body, _ = hw("--port", pty.port, "vend", "3")
    assert code == 3 and body is not None and body["outcome"] == "unknown"
    assert board.motor_turns == 3


def test_a_silent_board_is_unknown(pty: PtyBoard, board: BoardModel) -> None:
    board.faults.silent = True
    code, body, _ = hw("--port", pty.port, "vend", "1")
    assert code == 3 and body is not None and body["outcome"] == "unknown"
    assert board.motor_turns == 0


def test_usage_and_port_errors_exit_2(pty: PtyBoard) -> None:
    assert hw("--port", pty.port, "vend", "99")[0] == 2
    assert hw("--port", pty.port, "vend", "x")[0] == 2
    code, _, err = hw("--port", "/dev/no-such-port", "status")
    assert code == 2 and "cannot open" in err
