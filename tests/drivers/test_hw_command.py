"""``kiosk hw``: field diagnostics against the simulated board on a real pty.

``ping`` only reads; ``status`` and ``vend`` need the kiosk's store (``--config``), or
``--unsafe-no-store`` on a board no kiosk uses (see ``kiosk/hw.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from drivers.lane_board import codec
from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.codec import Cmd
from drivers.lane_board.simulator import BoardModel, PtyBoard
from kiosk.bootstrap import open_store
from kiosk.config import load
from kiosk.core.rules import Limits
from kiosk.demo import load_or_create_key, seed, seed_catalog
from kiosk.store.settings import LANE_BOARD_SN

UNSAFE = "--unsafe-no-store"


def hw(*args: str) -> tuple[int, dict[str, object] | None, str]:
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "hw", *args], capture_output=True, text=True, timeout=60
    )
    body = json.loads(out.stdout) if out.stdout.strip() else None
    return out.returncode, body, out.stderr


def config_file(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[store]\npath = "kiosk.db"\n[codes]\nissuers = ["timebank-hub"]\n'
        f'[machine]\nkind = "lane_board"\nport = "{port}"\n',
        encoding="utf-8",
    )
    return path


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and err.startswith("kiosk: ") and "Traceback" not in err


def test_ping_only_reads(pty: PtyBoard, board: BoardModel) -> None:
    client = LaneBoardClient.open(pty.port)
    try:
        client.status()
    finally:
        client.close()
    remembered = board.remembered
    code, body, _ = hw("--port", pty.port, "ping")
    assert (code, body) == (0, {"alive": True, "error": None})
    assert board.remembered is remembered and len(board.executed) == 1  # nothing executed, nothing forgotten
    board.faults.silent = True
    code, body, _ = hw("--port", pty.port, "ping")
    assert code == 3 and body is not None and body["alive"] is False


def test_status_and_vend_without_a_store_are_refused(pty: PtyBoard, board: BoardModel) -> None:
    for action in (["status"], ["vend", "1"]):
        code, body, err = hw("--port", pty.port, *action)
        assert (code, body) == (2, None) and one_line(err) and "--config" in err
    assert board.executed == [] and board.motor_turns == 0


def test_status(pty: PtyBoard) -> None:
    code, body, _ = hw("--board", "lane", "--port", pty.port, UNSAFE, "status")
    assert code == 0 and body is not None
    assert (body["alive"], body["temperature_c"], body["restarted"]) == (True, 4, True)


def test_vend_outcomes_and_exit_codes(pty: PtyBoard, board: BoardModel) -> None:
    code, body, _ = hw("--port", pty.port, UNSAFE, "vend", "1")
    assert (code, body is not None and body["outcome"]) == (0, "dispensed")
    board.lanes[2].stock = 0
    code, body, _ = hw("--port", pty.port, UNSAFE, "vend", "2")
    assert code == 1 and body == {
        "outcome": "not_dispensed",
        "flags": ["drop_sensor_saw_nothing"],
        "sn": body["sn"],
    }
    board.faults.power_cut_during_turn = True
    code, body, _ = hw("--port", pty.port, UNSAFE, "vend", "3")
    assert code == 3 and body is not None and body["outcome"] == "unknown"
    assert board.motor_turns == 3


def test_without_a_store_it_counts_on_from_the_boards_memory(pty: PtyBoard, board: BoardModel) -> None:
    """A kiosk sent STATUS 1 then DISPENSE 2: a host without its counter must never send SN 1 again."""
    kiosk = LaneBoardClient.open(pty.port)
    try:
        kiosk.status()
        assert kiosk.dispense(4).sn == 2
    finally:
        kiosk.close()
    code, body, _ = hw("--port", pty.port, UNSAFE, "vend", "5")
    assert code == 0 and body is not None
    after_kiosk = [(r.sn, r.cmd) for r in board.executed[2:]]
    assert after_kiosk == [(3, Cmd.STATUS), (4, Cmd.DISPENSE)] and body["sn"] == 4


def test_a_silent_board_is_unknown(pty: PtyBoard, board: BoardModel) -> None:
    board.faults.silent = True
    code, body, _ = hw("--port", pty.port, UNSAFE, "vend", "1")
    assert code == 3 and body is not None and body["outcome"] == "unknown"
    assert board.motor_turns == 0


def test_usage_and_port_errors_exit_2(pty: PtyBoard, tmp_path: Path) -> None:
    assert hw("--port", pty.port, UNSAFE, "vend", "99")[0] == 2
    assert hw("--port", pty.port, UNSAFE, "vend", "x")[0] == 2
    assert hw("vend", "1")[0] == 2  # neither --config nor --port
    code, _, err = hw("--port", "/dev/no-such-port", "ping")
    assert code == 2 and "cannot open" in err and one_line(err)
    code, _, err = hw("--config", str(config_file(tmp_path, pty.port)), UNSAFE, "status")
    assert code == 2 and one_line(err)
    simulated = tmp_path / "sim.toml"
    simulated.write_text('[codes]\nissuers = ["timebank-hub"]\n[machine]\nkind = "simulated"\n', "utf-8")
    code, _, err = hw("--config", str(simulated), "status")
    assert code == 2 and "lane_board" in err and one_line(err)


def test_with_the_store_it_takes_the_kiosks_sns_and_records_the_test_vend(
    pty: PtyBoard, board: BoardModel, tmp_path: Path
) -> None:
    path = config_file(tmp_path, pty.port)
    engine, store = open_store(load(path))
    try:
        seed_catalog(store)
        for _ in range(41):
            store.next_sn()  # the kiosk has sent SN 1..41
        stock = store.lanes()[2].stock
    finally:
        engine.dispose()
    code, body, _ = hw("--config", str(path), "status")
    assert code == 0 and body is not None and body["alive"] is True
    code, body, _ = hw("--config", str(path), "vend", "3")
    assert code == 0 and body is not None and body["sn"] == 44
    assert [(r.sn, r.cmd) for r in board.executed] == [(42, Cmd.STATUS), (43, Cmd.STATUS), (44, Cmd.DISPENSE)]
    engine, store = open_store(load(path))
    try:
        assert store.setting(LANE_BOARD_SN) == "44"  # the kiosk's next request is SN 45
        assert store.lanes()[2].stock == stock - 1  # the item that dropped left the kiosk's stock
        audit = [a for a in store.audit_log() if a.action == "test_vend"]
        assert [(a.actor, a.target) for a in audit] == [("kiosk hw", "lane:3")]
    finally:
        engine.dispose()


def test_with_the_store_it_waits_while_a_dispense_is_in_flight(
    pty: PtyBoard, board: BoardModel, tmp_path: Path
) -> None:
    path = config_file(tmp_path, pty.port)
    engine, store = open_store(load(path))
    try:
        seed(store, load_or_create_key(tmp_path / "key.pem"))
        item = store.items()[0]
        lane = next(lane.number for lane in store.lanes() if lane.item_id == item.id)
        hold = store.place_hold("V0001", item.id, lane, "visit", Limits())  # the kiosk stopped here
    finally:
        engine.dispose()
    for action in (["status"], ["vend", "1"]):
        code, body, err = hw("--config", str(path), *action)
        assert (code, body) == (2, None) and one_line(err)
        assert f"lane {lane} (SN {hold.sn}) is still in flight" in err
    assert board.executed == []  # the board still remembers what the kiosk needs to settle it
    assert hw("--config", str(path), "ping")[0] == 0  # reading is always allowed
    assert board.executed == []


def test_with_the_store_ping_executes_nothing(pty: PtyBoard, board: BoardModel, tmp_path: Path) -> None:
    client = LaneBoardClient.open(pty.port)
    try:
        client.transact(codec.status(7))
    finally:
        client.close()
    config = config_file(tmp_path, pty.port)
    engine, store = open_store(load(config))
    try:
        for _ in range(7):
            store.next_sn()
    finally:
        engine.dispose()
    assert hw("--config", str(config), "ping")[:2] == (0, {"alive": True, "error": None})
    assert len(board.executed) == 1
