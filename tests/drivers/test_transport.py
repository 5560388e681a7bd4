"""The serial port is held by one program at a time: a second opener is told so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.simulator import BoardModel, PtyBoard
from drivers.lane_board.transport import PortBusy, PortError, open_port


def test_a_second_opener_is_refused_while_the_first_keeps_talking(pty: PtyBoard, board: BoardModel) -> None:
    kiosk = LaneBoardClient.open(pty.port)
    try:
        with pytest.raises(PortBusy) as caught:
            open_port(pty.port)
        message = str(caught.value)
        assert pty.port in message and "in use by another program" in message and "\n" not in message
        assert kiosk.status().alive  # the holder is undisturbed
    finally:
        kiosk.close()
    open_port(pty.port).close()  # free again once the holder closed it


def test_a_missing_port_is_not_busy() -> None:
    with pytest.raises(PortError) as caught:
        open_port("/dev/no-such-port")
    assert not isinstance(caught.value, PortBusy) and "cannot open" in str(caught.value)


def test_urls_without_a_lock_still_open() -> None:
    open_port("loop://").close()


def test_kiosk_hw_and_kiosk_run_on_a_held_port_say_so(pty: PtyBoard, tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[store]\npath = "k.db"\n[codes]\nissuers = ["hub"]\n'
        f'[machine]\nkind = "lane_board"\nport = "{pty.port}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    kiosk = LaneBoardClient.open(pty.port)
    try:
        for args in (["hw", "--port", pty.port, "ping"], ["hw", "--config", str(config), "status"],
                     ["run", "--config", str(config)]):  # fmt: skip
            out = subprocess.run(
                [sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=60, env=env
            )
            assert out.returncode == 2, out.stderr
            assert out.stderr.count("\n") == 1 and "in use by another program" in out.stderr, out.stderr
    finally:
        kiosk.close()
