"""Smoke: the whole app from its one composition root, headless, buys from the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.app import create_app, demo_parts, wait_until
from kiosk.config import demo_config
from kiosk.core.session import Step
from kiosk.demo import DEMO_CARD_PIN, DEMO_PANEL


def test_boot_scan_buy_and_check_the_ledger(qtbot: Any, tmp_path: Path) -> None:
    codes, seed = demo_parts(tmp_path)
    app = create_app(demo_config(tmp_path, turn_s=0.05), codes=codes, seed_store=seed)
    try:
        assert app.simulator_window is not None
        app.window.show()
        assert wait_until(lambda: bool(app.session.offers), 5)
        app.simulator_window.scan(DEMO_PANEL[2])  # the printed card: it has a PIN
        assert wait_until(lambda: app.session.step is Step.CARD_PIN, 5)
        for key in [*DEMO_CARD_PIN, "ok"]:
            app.window.card_pin.keys[key].click()
        assert wait_until(lambda: app.session.step is Step.IDENTIFIED, 5)
        water = next(o.item.id for o in app.session.offers if o.item.name_en == "Bottled water")
        app.window.catalog.picked.emit(water)
        app.window.catalog.reviewed.emit()
        app.window.confirm.confirmed.emit()
        assert wait_until(lambda: app.session.step is Step.RESULT, 10)
        entries = app.parts.store.entries("V0003")
        assert sorted(e.kind.value for e in entries) == ["charge", "credit", "hold"]
        assert app.parts.store.balance("V0003").available == 150 - 20
        assert wait_until(lambda: app.simulator_window.rows[2].turns.text() == "转 1", 2)
    finally:
        app.close()


@pytest.mark.parametrize("platform", [None, "offscreen"])
def test_the_demo_command_runs_headless(tmp_path: Path, platform: str | None) -> None:
    """No display, or Qt told to draw offscreen where nobody sees it: the demo walks
    through its screens and saves them, rather than waiting for touches that never come."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "demo", "--data-dir", str(tmp_path / "d")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "No display found" in out.stderr
    shots = [Path(line) for line in out.stdout.splitlines()]
    assert len(shots) == 13 and all(p.exists() for p in shots)


def test_the_headless_demo_runs_again_and_again(tmp_path: Path) -> None:
    """As the README's first command, run three times in a day: the scripted visit buys
    the same items each time, so it must not meet the daily caps of an earlier run."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-m", "kiosk", "demo"], env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        shots = [Path(line) for line in out.stdout.splitlines()]
        assert len(shots) == 13 and all(p.exists() for p in shots)
    # it cleans up after itself: one set of screens, nothing left in the temporary directory
    assert {p.parent for p in shots} == {tmp_path / "cache" / "timebank-kiosk" / "demo-screens"}
    assert len(list(shots[0].parent.iterdir())) == 13
    assert list((tmp_path / "tmp").iterdir()) == []


def test_demo_through_the_serial_driver_and_a_pty_board(qtbot: Any, tmp_path: Path) -> None:
    import dataclasses

    from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard
    from kiosk.config import MachineKind
    from kiosk.demo import DEMO_ITEMS

    model = BoardModel({lane: LaneState(stock) for *_, lane, _cap, stock in DEMO_ITEMS}, turn_s=0.2)
    board = PtyBoard(model)
    codes, seed = demo_parts(tmp_path)
    config = dataclasses.replace(demo_config(tmp_path), machine=MachineKind.LANE_BOARD, port=board.port)
    app = create_app(config, codes=codes, seed_store=seed, cabinet=model, on_close=board.close)
    try:
        assert app.simulator_window is not None
        app.window.show()
        assert wait_until(lambda: bool(app.session.offers), 5)
        app.simulator_window.scan(DEMO_PANEL[0])
        assert wait_until(lambda: app.session.step is Step.IDENTIFIED, 5)
        ids = {o.item.name_en: o.item.id for o in app.session.offers}
        app.window.catalog.picked.emit(ids["Tissues"])
        app.window.catalog.picked.emit(ids["Bottled water"])
        app.window.catalog.reviewed.emit()
        app.window.confirm.confirmed.emit()
        assert wait_until(lambda: app.session.step is Step.RESULT, 20)
        assert sorted(e.kind.value for e in app.parts.store.entries("V0001")).count("charge") == 2
        assert model.motor_turns == 2
        assert wait_until(lambda: app.simulator_window.rows[1].turns.text() == "转 1", 2)
    finally:
        app.close()
