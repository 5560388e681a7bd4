"""Crash tests: the kiosk killed with SIGKILL at each step of a redemption, restarted.

The lane board (simulated, on a real pty) lives in the test process and outlives the
kiosk. After the restart the ledger, the board's motor count and the dispenses in doubt
must agree with what physically happened: never a charge without a drop, never a
second turn, and every dispense nobody can tell left in doubt with its hold.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.lane_board.codec import Cmd, Reply, Request
from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard
from kiosk.config import DEMO_ISSUER

ROOT = Path(__file__).resolve().parents[2]


class WatchedBoard(BoardModel):
    """A board that tells the test when it sees a DISPENSE or the first CHECK poll."""

    def __init__(self) -> None:
        super().__init__({n: LaneState(5) for n in range(1, 9)}, turn_s=0.6)
        self.saw_dispense = threading.Event()
        self.saw_check = threading.Event()

    def handle(self, req: Request) -> Reply | None:
        reply = super().handle(req)
        if req.cmd is Cmd.DISPENSE:
            self.saw_dispense.set()
        elif req.cmd is Cmd.CHECK:
            self.saw_check.set()
        return reply


@pytest.fixture
def board() -> Iterator[tuple[WatchedBoard, PtyBoard]]:
    model = WatchedBoard()
    served = PtyBoard(model)
    yield model, served
    served.close()


def child(data: Path, port: str, *args: str, crash_at: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CRASH_AT"}
    if crash_at:
        env["KIOSK_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.kiosk_child", str(data), port, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def report(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("step", "kinds", "turns", "in_doubt"),
    [
        ("after_hold", ["credit", "hold", "release"], 0, 0),
        ("after_send", ["charge", "credit", "hold"], 1, 0),
        ("while_busy", ["charge", "credit", "hold"], 1, 0),
        ("before_settle", ["charge", "credit", "hold"], 1, 0),
        ("power_cut", ["credit", "hold"], 1, 1),
    ],
)
def test_killed_at_each_step_and_restarted(
    tmp_path: Path,
    board: tuple[WatchedBoard, PtyBoard],
    step: str,
    kinds: list[str],
    turns: int,
    in_doubt: int,
) -> None:
    model, served = board
    report(child(tmp_path, served.port))  # first start: seed the store
    failpoint = step if step in ("after_hold", "before_settle") else None
    if step == "power_cut":
        model.faults.power_cut_during_turn = True
    proc = child(tmp_path, served.port, "vend", crash_at=failpoint)
    if failpoint is None:
        event = model.saw_check if step == "while_busy" else model.saw_dispense
        assert event.wait(30), "the kiosk never reached the board"
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    after = report(child(tmp_path, served.port))  # restart: settles what was in flight
    assert after == {"kinds": kinds, "in_doubt": in_doubt}
    assert model.motor_turns == turns
    dispenses = [r for r in model.executed if r.cmd is Cmd.DISPENSE]
    assert len(dispenses) == (0 if step == "after_hold" else 1)


def kiosk_toml(data: Path, port: str) -> Path:
    """The configuration the child kiosk runs with, as a technician's ``kiosk hw --config`` reads it."""
    path = data / "kiosk.toml"
    path.write_text(
        f'[store]\npath = "demo-kiosk.db"\n[codes]\nissuers = ["{DEMO_ISSUER}"]\n'
        f'[machine]\nkind = "lane_board"\nport = "{port}"\n',
        encoding="utf-8",
    )
    return path


def hw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "hw", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("check", "code", "kinds", "in_doubt"),
    [
        # the wiring check the README used to suggest: it would have erased the board's memory
        (["--port", "{port}", "status"], 2, ["charge", "credit", "hold"], 0),
        (["--config", "{config}", "status"], 2, ["charge", "credit", "hold"], 0),
        (["--port", "{port}", "ping"], 0, ["charge", "credit", "hold"], 0),
        # a technician who insists: the board forgets the dispense, so it stays in doubt
        (["--port", "{port}", "--unsafe-no-store", "status"], 0, ["credit", "hold"], 1),
    ],
)
def test_a_wiring_check_after_a_crash_never_gives_the_item_away(
    tmp_path: Path,
    board: tuple[WatchedBoard, PtyBoard],
    check: list[str],
    code: int,
    kinds: list[str],
    in_doubt: int,
) -> None:
    model, served = board
    report(child(tmp_path, served.port))  # first start: seed the store
    proc = child(tmp_path, served.port, "vend", crash_at="before_settle")  # killed after the drop
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL and model.motor_turns == 1
    args = [a.format(port=served.port, config=kiosk_toml(tmp_path, served.port)) for a in check]
    done = hw(*args)
    assert done.returncode == code, done.stderr
    if code == 2:
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    after = report(child(tmp_path, served.port))  # restart: settles what was in flight
    assert after == {"kinds": kinds, "in_doubt": in_doubt}
    assert "release" not in after["kinds"]  # the item dropped: its hold is never given back
    assert model.motor_turns == 1
