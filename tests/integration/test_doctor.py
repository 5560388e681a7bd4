"""``kiosk doctor``: one line per check, against real parts.

A real SQLite store, the lane-board simulator on a pseudo-terminal (driven through the real
serial driver), a pseudo-terminal standing for a serial scanner, a real hub served with
uvicorn: every check passes on a ready kiosk, and each failure is said in words. No check
changes the store's data (the board's SN counter aside) or turns a lane.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.codec import Cmd
from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard
from hub.service import Hub
from kiosk import assets, doctor
from kiosk.bootstrap import open_store
from kiosk.config import load
from kiosk.core.rules import Limits
from kiosk.demo import DEMO_VOLUNTEERS, load_or_create_key, seed
from kiosk.store.db import migrate, open_engine
from kiosk.store.settings import LANE_BOARD_SN
from tests.helpers import free_port, self_signed, serving

YEARS = 3 * 365 * 86_400
ORDER = ["configuration", "store", "lane board", "scanner", "font", "hub", "clock"]


@pytest.fixture
def board() -> Iterator[BoardModel]:
    yield BoardModel({n: LaneState(5) for n in range(1, 9)}, turn_s=0.1)


@pytest.fixture
def pty(board: BoardModel) -> Iterator[PtyBoard]:
    served = PtyBoard(board)
    yield served
    served.close()


@pytest.fixture
def scanner_port() -> Iterator[str]:
    """A pseudo-terminal standing for a serial-mode scanner's port."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def write_config(
    tmp_path: Path, board_port: str | None, *, scanner: str | None = None, hub: str = ""
) -> Path:
    machine = f'kind = "lane_board"\nport = "{board_port}"' if board_port else 'kind = "simulated"'
    text = f'[store]\npath = "kiosk.db"\n[codes]\nissuers = ["timebank-hub"]\n[machine]\n{machine}\n'
    if scanner:
        text += f'[scanner]\nport = "{scanner}"\n'
    text += hub
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def hub_section(url: str, token: str) -> str:
    return f'[hub]\nurl = "{url}"\ntoken = "{token}"\n'


def seeded(config_path: Path) -> None:
    """The kiosk's store as its first start leaves it: migrated, stocked, with volunteers."""
    engine, store = open_store(load(config_path))
    seed(store, load_or_create_key(config_path.parent / "key.pem"))
    engine.dispose()


def doctor_lines(config: Path, now: float | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = doctor.run(config, out=lines.append, clock=(lambda: now) if now else time.time)
    return code, lines


def by_name(lines: list[str]) -> dict[str, str]:
    return {line[2:].split(":", 1)[0]: line for line in lines}


def dump(path: Path) -> list[str]:
    """The store's whole content, as SQL (without the board's SN counter)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [line for line in db.iterdump() if LANE_BOARD_SN not in line]


def test_a_ready_kiosk_passes_every_check_and_nothing_changes(
    tmp_path: Path,
    pty: PtyBoard,
    board: BoardModel,
    scanner_port: str,
    hub_server: tuple[Hub, str],
) -> None:
    hub, url = hub_server
    kiosk = hub.add_kiosk("驿站-1")
    config = write_config(tmp_path, pty.port, scanner=scanner_port, hub=hub_section(url, kiosk["token"]))
    seeded(config)
    before = dump(tmp_path / "kiosk.db")
    code, lines = doctor_lines(config)
    assert code == 0, lines
    assert [line[:1] for line in lines] == ["✓"] * 7
    assert list(by_name(lines)) == ORDER
    found = by_name(lines)
    assert "writable and at this program's schema" in found["store"]
    assert found["lane board"] == f"✓ lane board: answers STATUS on {pty.port}: 4 °C, doors closed"
    assert found["scanner"] == f"✓ scanner: {scanner_port} opens"
    assert f"as kiosk {kiosk['kiosk_id']}" in found["hub"]
    assert "within" in found["clock"] and "of the hub's" in found["clock"]
    assert dump(tmp_path / "kiosk.db") == before  # nothing of the store's data changed
    assert [r.cmd for r in board.executed] == [Cmd.STATUS] and board.motor_turns == 0
    engine, store = open_store(load(config))
    assert store.setting(LANE_BOARD_SN) == str(board.executed[0].sn)  # the SN came from the counter
    engine.dispose()


def test_an_invalid_configuration_is_said_line_by_line_and_nothing_else_runs(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[codes]\nissuers = ["x"]\n[machne]\nkind = "simulated"\n', encoding="utf-8")
    code, lines = doctor_lines(config)
    assert code == 2
    assert lines == [
        f"✗ configuration: {config} is not valid",
        f"{config}: the section [machine] is missing (it is required)",
        f"{config}:3: unknown section [machne] — did you mean [machine]?",
    ]


def test_a_port_the_running_kiosk_holds_is_said_so(
    tmp_path: Path, pty: PtyBoard, board: BoardModel, scanner_port: str
) -> None:
    config = write_config(tmp_path, pty.port, scanner=scanner_port)
    seeded(config)
    running = LaneBoardClient.open(pty.port)  # the kiosk, running: it holds the port exclusively
    from drivers.lane_board.transport import open_port

    scanner = open_port(scanner_port)
    try:
        code, lines = doctor_lines(config)
    finally:
        running.close()
        scanner.close()
    assert code == 1
    found = by_name(lines)
    assert found["lane board"] == (
        f"✗ lane board: {pty.port} is in use by another program: the running kiosk holds its lane board "
        "while it runs; stop it (systemctl stop timebank-kiosk) to check the lane board"
    )
    assert found["scanner"].startswith(f"✗ scanner: {scanner_port} is in use by another program")
    assert board.executed == []


def test_a_dispense_in_flight_is_not_disturbed(tmp_path: Path, pty: PtyBoard, board: BoardModel) -> None:
    config = write_config(tmp_path, pty.port)
    seeded(config)
    engine, store = open_store(load(config))
    lane = store.lanes()[0]
    assert lane.item_id is not None
    hold = store.place_hold(DEMO_VOLUNTEERS[0][0], lane.item_id, lane.number, "visit", Limits())
    engine.dispose()
    before = dump(tmp_path / "kiosk.db")
    code, lines = doctor_lines(config)
    assert code == 1
    assert by_name(lines)["lane board"] == (
        f"✗ lane board: a dispense on lane {lane.number} (SN {hold.sn}) is still in flight: start the kiosk "
        "once so it settles it (STATUS now would make the board forget it)"
    )
    assert board.executed == [] and dump(tmp_path / "kiosk.db") == before


def test_a_store_not_created_yet_and_one_not_migrated(
    tmp_path: Path, pty: PtyBoard, board: BoardModel
) -> None:
    config = write_config(tmp_path, pty.port)
    code, lines = doctor_lines(config)
    found = by_name(lines)
    assert code == 0, lines
    assert (
        found["store"]
        == f"✓ store: {tmp_path / 'kiosk.db'} not created yet: the kiosk creates it when it first starts"
    )
    assert (
        found["lane board"]
        == f"✓ lane board: answers CHECK on {pty.port} (STATUS waits for the kiosk's store)"
    )
    assert not (tmp_path / "kiosk.db").exists() and board.executed == []  # CHECK only: nothing executed
    engine = open_engine(tmp_path / "kiosk.db")
    migrate(engine, "0005")
    engine.dispose()
    before = dump(tmp_path / "kiosk.db")
    code, lines = doctor_lines(config)
    assert code == 1
    assert by_name(lines)["store"].startswith(f"✗ store: {tmp_path / 'kiosk.db'} is at schema 0005")
    assert "start the kiosk once (it migrates its store)" in by_name(lines)["store"]
    assert dump(tmp_path / "kiosk.db") == before  # not migrated by the doctor


def test_a_board_that_does_not_answer(tmp_path: Path, pty: PtyBoard, board: BoardModel) -> None:
    config = write_config(tmp_path, pty.port)
    seeded(config)
    board.faults.silent = True
    code, lines = doctor_lines(config)
    assert code == 1
    assert by_name(lines)["lane board"].startswith(f"✗ lane board: no answer to STATUS on {pty.port}")


def test_the_hub_unreachable_refusing_the_token_or_with_bad_tls(
    tmp_path: Path, hub_server: tuple[Hub, str]
) -> None:
    hub, url = hub_server
    port = free_port()
    for where, said in [
        (
            hub_section(f"http://127.0.0.1:{port}", "t0ken"),
            "中心无法连接 / hub unreachable: connection refused",
        ),
        (
            hub_section(url, "not-this-kiosks-token"),
            "中心拒绝了本机的令牌 / hub refused this kiosk's token: HTTP 401",
        ),
    ]:
        code, lines = doctor_lines(write_config(tmp_path, None, hub=where))
        assert code == 1
        assert by_name(lines)["hub"].startswith(f"✗ hub: {said}")
        assert "not compared with a hub" in by_name(lines)["clock"]
    with serving(hub_server_app(hub), tls=self_signed(tmp_path)) as tls_url:
        code, lines = doctor_lines(write_config(tmp_path, None, hub=hub_section(tls_url, "t0ken")))
    assert by_name(lines)["hub"].startswith(
        "✗ hub: 与中心的加密连接失败 / TLS with the hub failed: self-signed certificate"
    )


def hub_server_app(hub: Hub):  # type: ignore[no-untyped-def]
    from hub.app import create_api

    return create_api(hub)


def test_a_clock_years_off_fails_against_the_hub_and_against_the_floor(
    tmp_path: Path, hub_server: tuple[Hub, str]
) -> None:
    hub, url = hub_server
    config = write_config(tmp_path, None, hub=hub_section(url, hub.add_kiosk("驿站-2")["token"]))
    code, lines = doctor_lines(config, now=time.time() - YEARS)
    assert code == 1
    clock = by_name(lines)["clock"]
    assert clock.startswith("✗ clock: ") and "behind the hub's" in clock and "codes are refused" in clock
    offline = write_config(tmp_path, None, hub=hub_section(f"http://127.0.0.1:{free_port()}", "t0ken"))
    code, lines = doctor_lines(offline, now=time.time() - YEARS)
    clock = by_name(lines)["clock"]
    assert clock.startswith("✗ clock: ") and "before this program's files" in clock
    code, lines = doctor_lines(offline, now=time.time() + YEARS)  # ahead, and no hub to tell
    assert by_name(lines)["clock"].startswith("✓ clock: ")


def test_a_missing_or_incomplete_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, None)
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    monkeypatch.setattr(assets, "FONTS", fonts)
    code, lines = doctor_lines(config)
    assert code == 1
    assert by_name(lines)["font"] == (
        f"✗ font: {fonts / assets.FONT_FILES[0]} is missing: "
        "the screens would fall back to a font without Chinese"
    )
    (fonts / assets.FONT_FILES[0]).write_bytes(b"<html>not a font</html>")
    code, lines = doctor_lines(config)
    assert (
        by_name(lines)["font"] == f"✗ font: {fonts / assets.FONT_FILES[0]}: not an OpenType or TrueType font"
    )


def test_the_font_check_reads_the_character_map() -> None:
    shipped = assets.FONTS / assets.FONT_FILES[0]
    assert assets.missing(shipped, "时间银行益币，请扫描志愿者码") == ""
    assert assets.missing(shipped, "𠮷䶮") == "䶮𠮷"  # outside GB 2312: not in the subset


def test_the_command(tmp_path: Path) -> None:
    config = write_config(tmp_path, None)
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert [line[:2] for line in lines] == ["✓ "] * 7
    assert lines[2] == '✓ lane board: simulated ([machine] kind = "simulated": a training machine, no board)'
