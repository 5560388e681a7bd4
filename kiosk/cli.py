"""The ``kiosk`` command: run the kiosk, run the demo, and technicians' diagnostics.

    kiosk run --config FILE
    kiosk doctor --config FILE
    kiosk demo [--data-dir DIR] [--fresh] [--walkthrough DIR] [--language zh|en]
    kiosk code verify --jwks FILE --issuer ISS [--revoked FILE] [--now UNIX] CODE...
    kiosk hw --board lane (--config FILE | --port URL [--unsafe-no-store]) ping | status | vend LANE

``hw ping`` (read-only) and ``hw status`` print JSON and exit 0 when the board answers,
3 when it does not; ``hw vend`` prints ``{"outcome", "flags", "sn"}`` and exits 0
dispensed, 1 not dispensed, 3 unknown. All exit 2 on a usage or port error, or a refusal:
``status`` and ``vend`` need the kiosk's store (``--config``) and wait until it has no
dispense in flight (``kiosk.hw`` says why). ``code verify`` is a contract: one
JSON object per code and line, exit 0 when every code was checked, 2 on bad arguments.
It keeps a fresh replay memory per run and never opens a kiosk's database. ``doctor``
prints one line per check (``kiosk.doctor``) and exits 0 when all pass, 1 when one fails,
2 on an invalid configuration.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from protocol.logs import setup_logging

from .config import APP_NAME, ConfigError, default_data_dir, demo_config, load


class UsageError(Exception):
    pass


def _read_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"{what} {path} is not valid JSON: {exc}") from exc


def _codes(args: Sequence[str]) -> Iterator[str]:
    for code in args:
        if code == "-":
            # one answer per input line, a blank one too (it is malformed): the output
            # stays aligned with the input
            for line in sys.stdin:
                yield line.rstrip("\r\n")
        else:
            yield code


def cmd_code_verify(ns: argparse.Namespace) -> int:
    from protocol.codes import CodeVerifier, MemoryReplay, TrustList

    jwks = _read_json(ns.jwks, "trust list")
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise UsageError(f"trust list {ns.jwks} is not a JWKS (an object with a 'keys' list)")
    revoked: list[str] = []
    if ns.revoked:
        revoked = _read_json(ns.revoked, "revoked list")
        if not isinstance(revoked, list) or not all(isinstance(j, str) for j in revoked):
            raise UsageError(f"revoked list {ns.revoked} must be a JSON list of card ids")
    verifier = CodeVerifier(TrustList(jwks, revoked), MemoryReplay(), ns.issuer)
    now = ns.now
    for code in _codes(ns.codes):
        verdict = verifier.verify(code, now=now)
        print(json.dumps(verdict.as_json(), ensure_ascii=False), flush=True)
    return 0


def cmd_hw(ns: argparse.Namespace) -> int:
    """Field diagnostics on the lane board, under the kiosk's rules for it (``kiosk.hw``)."""
    from . import hw

    try:
        return hw.run(ns)
    except hw.HwError as exc:
        raise UsageError(str(exc)) from exc


def _lane_number(text: str) -> int:
    try:
        lane = int(text)
    except ValueError:
        lane = 0
    if not 1 <= lane <= 80:
        raise argparse.ArgumentTypeError(f"a lane is a number from 1 to 80, not {text!r}")
    return lane


HEADLESS_PLATFORMS = ("offscreen", "minimal")
"""Qt platforms whose windows nobody in front of this machine sees."""


def _has_display() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform:
        return platform not in HEADLESS_PLATFORMS
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _quiet_qt_noise() -> None:
    """Drop the offscreen platform's one harmless warning; pass every other message on."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def cmd_demo(ns: argparse.Namespace) -> int:
    from .app import create_app, demo_parts, run

    _quiet_qt_noise()
    from .demo import DEMO_CARD_PIN, DEMO_PIN
    from .demo_walkthrough import walkthrough

    shots = ns.walkthrough
    if shots is None and not _has_display():
        # one folder, replaced each run: a headless demo run again and again leaves one set
        shots = Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "demo-screens"
        shutil.rmtree(shots, ignore_errors=True)
        print(
            "No display found: running the demo offscreen and saving each screen as a PNG.\n"
            "For real windows, start it on a desktop (Qt needs the Debian packages listed in the README).",
            file=sys.stderr,
        )
    if ns.data_dir:
        data_dir = Path(ns.data_dir)
    elif shots is not None:  # the scripted visit needs the demo's opening state, not today's leftovers
        data_dir = Path(tempfile.mkdtemp(prefix="kiosk-demo-data-"))
        atexit.register(shutil.rmtree, data_dir, True)
    else:
        data_dir = default_data_dir() / "demo"
    if ns.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if shots is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    codes, seed = demo_parts(data_dir)
    config = demo_config(data_dir, turn_s=0.3 if shots else 1.2)
    cabinet = board = None
    if ns.board == "pty":
        from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard

        from .config import MachineKind
        from .demo import DEMO_ITEMS

        cabinet = BoardModel(
            {lane: LaneState(stock) for *_, lane, _cap, stock in DEMO_ITEMS}, turn_s=config.sim_turn_s + 0.6
        )
        board = PtyBoard(cabinet)
        config = dataclasses.replace(config, machine=MachineKind.LANE_BOARD, port=board.port)
        print(f"Lane board simulator on {board.port}", file=sys.stderr)
    if ns.language:
        config = dataclasses.replace(config, language=ns.language)
    app = create_app(
        config, codes=codes, seed_store=seed, cabinet=cabinet, on_close=board.close if board else None
    )
    print(
        f"Demo data: {data_dir}  (technician PIN {DEMO_PIN}; 孙建国's card asks for PIN {DEMO_CARD_PIN})",
        file=sys.stderr,
    )
    if shots is not None:
        try:
            for path in walkthrough(app, Path(shots)):
                print(path)
        finally:
            app.close()
        return 0
    return run(app)


def cmd_sync(ns: argparse.Namespace) -> int:
    """One sync with the hub (push, then pull), as the kiosk's worker does."""
    from .bootstrap import bootstrap
    from .sync import HubClient, Syncer

    config = load(Path(ns.config))
    if not config.hub_url or not config.hub_token:
        raise UsageError("the configuration has no [hub] url and token")
    parts = bootstrap(config)
    try:
        client = HubClient(config.hub_url, config.hub_token)
        syncer = Syncer(
            parts.store, client, pictures=config.pictures_dir, trust_max_age_s=config.offline.trust_max_age_s
        )
        report = syncer.run_once()
        parts.service.after_sync()
    finally:
        parts.close()
    print(json.dumps(report.as_json(), ensure_ascii=False))
    return 0 if report.ok else 1


def cmd_doctor(ns: argparse.Namespace) -> int:
    """Every check a kiosk in the field needs, one line each (``kiosk.doctor``)."""
    from . import doctor

    return doctor.run(Path(ns.config))


def cmd_config_check(ns: argparse.Namespace) -> int:
    """The file against the schema (not the hardware): ``ok``, or one line per problem (exit 2)."""
    load(Path(ns.file))
    print("ok")
    return 0


def cmd_run(ns: argparse.Namespace) -> int:
    from drivers.lane_board.transport import PortBusy, PortError

    from .app import create_app, run
    from .config import MachineKind
    from .demo import seed_catalog

    config = load(Path(ns.config))
    _quiet_qt_noise()
    # a simulated cabinet has the sample catalog's lanes: stock an empty store to match
    simulated = config.machine is MachineKind.SIMULATED
    try:
        app = create_app(config, seed_store=seed_catalog if simulated else None)
    except PortBusy as exc:
        raise UsageError(str(exc)) from exc
    except PortError as exc:
        raise UsageError(f"{exc} (check [machine] port, the cable and the dialout group)") from exc
    return run(app)


def build_parser() -> argparse.ArgumentParser:
    from .demo import DEMO_CARD_PIN, DEMO_PIN  # no Qt: the demo's data, for its help

    parser = argparse.ArgumentParser(prog="kiosk", description="时间银行 redemption kiosk")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="start the kiosk with a configuration file")
    p_run.add_argument("--config", required=True, help="TOML file (see config/kiosk.example.toml)")
    p_run.set_defaults(func=cmd_run)
    p_demo = sub.add_parser(
        "demo",
        help="start the kiosk and the hardware simulator with demo data",
        description="Demo codes to click: two phone codes, a printed card whose PIN is "
        f"{DEMO_CARD_PIN} (the kiosk asks for it after the card's scan), an expired and a forged "
        f"code, and a technician code (PIN {DEMO_PIN}).",
    )
    p_demo.add_argument("--data-dir", help="where the demo database and key live")
    p_demo.add_argument("--fresh", action="store_true", help="start from a new demo database")
    p_demo.add_argument(
        "--board",
        choices=["sim", "pty"],
        default="sim",
        help="sim: the in-process cabinet; pty: the lane-board simulator over a pseudo-terminal, "
        "driven through the real serial driver",
    )
    p_demo.add_argument(
        "--walkthrough",
        type=Path,
        metavar="DIR",
        help="run offscreen: buy two items, save every screen as PNG into DIR, and exit",
    )
    p_demo.add_argument(
        "--language",
        choices=["zh", "en"],
        help="the language the screens start in (the button on screen switches it); default zh",
    )
    p_demo.set_defaults(func=cmd_demo)
    p_hw = sub.add_parser("hw", help="lane board diagnostics: ping, status, or one test vend")
    p_hw.add_argument("--board", choices=["lane"], default="lane", help="which board (lane)")
    where = p_hw.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--config", help="the kiosk's configuration: its board's port, and its store (SN counter, vends)"
    )
    where.add_argument(
        "--port", help="serial port URL (/dev/ttyUSB0, socket://host:port, …): ping only, without a store"
    )
    p_hw.add_argument(
        "--unsafe-no-store",
        action="store_true",
        help="with --port: allow status and vend without the kiosk's store; unsafe on a live kiosk's "
        "board (its last dispense would be left in doubt)",
    )
    hw_sub = p_hw.add_subparsers(dest="action", required=True)
    hw_sub.add_parser("ping", help="is the board answering? (CHECK only: changes nothing on the board)")
    hw_sub.add_parser("status", help="print the board's status as JSON")
    p_vend = hw_sub.add_parser("vend", help="turn one lane once and print the outcome as JSON")
    p_vend.add_argument("lane", type=_lane_number)
    p_hw.set_defaults(func=cmd_hw)
    p_sync = sub.add_parser("sync", help="sync with the hub (push, then pull)")
    p_sync.add_argument("--once", action="store_true", required=True, help="one sync, then exit")
    p_sync.add_argument("--config", required=True)
    p_sync.set_defaults(func=cmd_sync)
    p_doctor = sub.add_parser(
        "doctor",
        help="is this kiosk ready? configuration, store, board, scanner, font, hub, clock: one line each",
    )
    p_doctor.add_argument("--config", required=True, help="the kiosk's configuration file")
    p_doctor.set_defaults(func=cmd_doctor)
    p_config = sub.add_parser("config", help="the configuration file")
    config_sub = p_config.add_subparsers(dest="config_command", required=True)
    p_check = config_sub.add_parser("check", help="check a configuration file: ok, or each problem by line")
    p_check.add_argument("file", help="TOML file (see config/kiosk.example.toml)")
    p_check.set_defaults(func=cmd_config_check)
    p_code = sub.add_parser("code", help="volunteer-code diagnostics")
    code_sub = p_code.add_subparsers(dest="code_command", required=True)
    p_verify = code_sub.add_parser("verify", help="check codes against a trust list, in order")
    p_verify.add_argument("--jwks", required=True, help="trust list (JWKS JSON file)")
    p_verify.add_argument("--issuer", required=True, action="append", help="accepted issuer (repeatable)")
    p_verify.add_argument("--revoked", help="JSON list of revoked card jti")
    p_verify.add_argument("--now", type=int, help="the clock, Unix seconds (default: now)")
    p_verify.add_argument("codes", nargs="+", metavar="CODE", help="codes, or - to read them from stdin")
    p_verify.set_defaults(func=cmd_code_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    setup_logging(APP_NAME, "kiosk")
    try:
        return int(ns.func(ns))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
