"""``kiosk doctor --config FILE``: is this kiosk ready for the field? One line per check.

In order: the configuration (invalid: its lines, and nothing else is checked: exit 2),
the store (writable, at the program's schema), the lane board (answers STATUS; a
simulated cabinet says so), the serial scanner's port (if one is configured), the CJK
font the screens load from ``assets/``, the hub (an authenticated request with this
kiosk's token), and the clock (against the hub's ``Date`` when it answered, else against
a floor: this program's files and the last good sync). Each line starts ``✓`` or ``✗``
with a short reason; exit 0 when every check passed, 1 when any failed.

Nothing here changes the store's data or turns a lane: the store is opened without
migrating (a write transaction is begun and rolled back), the board is asked STATUS
only when no dispense is in flight, and nothing else. The one write is the board's SN
counter, which every request a kiosk's host sends the board takes its SN from
(``docs/architecture.md``: one counter), as ``kiosk hw status`` does. The board's port
is opened exclusively, as the kiosk opens it: while the kiosk runs, it holds the port,
and the check says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from drivers.lane_board.client import LaneBoardClient, NoReply
from drivers.lane_board.transport import PortBusy, PortError, open_port
from protocol.codes import LEEWAY_S

from . import assets
from .config import Config, ConfigError, MachineKind, load
from .core.messages import sentences
from .services.store import Store
from .store.db import MIGRATIONS, open_engine
from .store.settings import LAST_GOOD_SYNC
from .store.uow import SqlUnitsOfWork
from .sync import HubClient, HubError

POWER_AND_CABLE = "check its power and cable (9600 8N1)"
UNIT = "timebank-kiosk"
"""The kiosk's systemd unit (``deploy/``), named when the running kiosk holds a port."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    reason: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.reason}"


def passed(name: str, reason: str) -> Check:
    return Check(name, True, reason)


def failed(name: str, reason: str) -> Check:
    return Check(name, False, reason)


# --- the store ---------------------------------------------------------------------------


def _head() -> str:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _revision(path: Path) -> str | None:
    """Open the file for writing, take the write lock and give it back; the schema's revision."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2.0)) as db:
        db.isolation_level = None
        db.execute("BEGIN IMMEDIATE")  # proves the file, its folder and the lock are writable
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            row = None  # no such table: not a kiosk's store (or an empty file)
        finally:
            db.execute("ROLLBACK")
    return None if row is None else str(row[0])


def _writable_folder(path: Path) -> Path | None:
    """The nearest existing folder of ``path`` if this user may create files in it."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def check_store(config: Config) -> tuple[Check, bool]:
    """(the check, whether the store may be opened as it is: it exists and is migrated)."""
    path = config.db_path
    if not path.exists():
        folder = _writable_folder(path)
        if folder is None:
            return failed("store", f"{path} does not exist and cannot be created by this user"), False
        return passed("store", f"{path} not created yet: the kiosk creates it when it first starts"), False
    try:
        revision = _revision(path)
    except sqlite3.Error as exc:
        return failed("store", f"{path}: {exc} (is it the kiosk's file, and this user's to write?)"), False
    head = _head()
    if revision is None:
        return failed("store", f"{path} is not a kiosk's store (no schema revision)"), False
    if revision != head:
        return failed(
            "store",
            f"{path} is at schema {revision}, this program's is {head}: start the kiosk once "
            "(it migrates its store) or use the program that made it",
        ), False
    return passed("store", f"{path} is writable and at this program's schema ({head})"), True


@contextlib.contextmanager
def opened_store(config: Config) -> Iterator[Store]:
    """The store's use cases on its file as it is (never migrated, never created here)."""
    engine: Engine = open_engine(config.db_path)
    try:
        yield Store(SqlUnitsOfWork(engine))
    finally:
        engine.dispose()


# --- the hardware --------------------------------------------------------------------------


def _busy(port: str, what: str) -> str:
    return (
        f"{port} is in use by another program: the running kiosk holds its {what} while it runs; "
        f"stop it (systemctl stop {UNIT}) to check the {what}"
    )


def check_board(config: Config, store: Store | None) -> Check:
    if config.machine is MachineKind.SIMULATED:
        return passed("lane board", 'simulated ([machine] kind = "simulated": a training machine, no board)')
    assert config.port is not None
    try:
        client = LaneBoardClient.open(config.port, None if store is None else store.next_sn)
    except PortBusy:
        return failed("lane board", _busy(config.port, "lane board"))
    except PortError as exc:
        return failed("lane board", f"{exc} (check [machine] port, the cable and the dialout group)")
    try:
        return _ask_board(client, config.port, store)
    finally:
        client.close()


def _ask_board(client: LaneBoardClient, port: str, store: Store | None) -> Check:
    if store is None:  # no counter to take an SN from: CHECK, which the board does not remember
        try:
            client.ping()
        except (NoReply, PortError) as exc:
            return failed("lane board", f"no answer on {port} ({exc}): {POWER_AND_CABLE}")
        return passed("lane board", f"answers CHECK on {port} (STATUS waits for the kiosk's store)")
    held = store.in_flight()  # looked at with the port held: no dispense starts meanwhile
    if held:
        return failed(
            "lane board",
            f"a dispense on lane {held[0].lane} (SN {held[0].sn}) is still in flight: start the kiosk "
            "once so it settles it (STATUS now would make the board forget it)",
        )
    try:
        reply = client.status_reply()
    except (NoReply, PortError) as exc:
        return failed("lane board", f"no answer to STATUS on {port} ({exc}): {POWER_AND_CABLE}")
    said = f"answers STATUS on {port}: {reply.temperature_c} °C"
    if reply.service_door_open:
        shut = "the kiosk dispenses nothing until it is closed"
        return failed("lane board", f"{said}, but the service door is open: {shut}")
    return passed("lane board", said + (", pickup flap open" if reply.pickup_flap_open else ", doors closed"))


def check_scanner(config: Config) -> Check:
    if not config.scanner_port:
        return passed("scanner", "no serial scanner configured (a keyboard-wedge scanner needs none)")
    try:
        port = open_port(config.scanner_port, timeout=0.1)
    except PortBusy:
        return failed("scanner", _busy(config.scanner_port, "scanner"))
    except PortError as exc:
        return failed("scanner", f"{exc} (check [scanner] port, the cable and the dialout group)")
    port.close()
    return passed("scanner", f"{config.scanner_port} opens")


def check_font() -> Check:
    text = "".join(sentences())
    for name in assets.FONT_FILES:
        path = assets.FONTS / name
        if not path.is_file():
            return failed("font", f"{path} is missing: the screens would fall back to a font without Chinese")
        try:
            lacking = assets.missing(path, text)
        except (OSError, assets.FontError) as exc:
            return failed("font", f"{path}: {exc}")
        if lacking:
            return failed("font", f"{path} has no glyph for {lacking[:20]}")
    count = len(sentences())
    return passed("font", f"{assets.FAMILY} in {assets.FONTS} has every character of the {count} sentences")


# --- the hub and the clock -----------------------------------------------------------------


def check_hub(config: Config) -> tuple[Check, float | None]:
    """(the check, the hub's clock when it answered)."""
    if not config.hub_url or not config.hub_token:
        return passed("hub", "none configured (the kiosk runs on its own)"), None
    try:
        page, hub_time = HubClient(config.hub_url, config.hub_token, timeout_s=10).probe()
    except HubError as exc:
        return failed("hub", exc.problem.sentence()), None
    kiosk = f" as kiosk {page.kiosk_id}" if page.kiosk_id else ""
    return passed("hub", f"{config.hub_url} answers with this kiosk's token{kiosk}"), hub_time


def build_floor() -> float:
    """When this program's files were written: a clock before it is certainly wrong."""
    package = Path(__file__).resolve().parent
    return max(p.stat().st_mtime for p in package.rglob("*.py"))


def _when(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_clock(now: float, hub_time: float | None, floors: dict[str, float]) -> Check:
    """Within the codes' leeway of the hub's clock; or at least after every floor."""
    if hub_time is not None:
        skew = now - hub_time
        if abs(skew) > LEEWAY_S:
            way = "ahead of" if skew > 0 else "behind"
            return failed(
                "clock",
                f"{_when(now)} is {abs(skew):.0f} s {way} the hub's ({_when(hub_time)}): volunteers' "
                "codes are refused; set the time (timedatectl, NTP)",
            )
        return passed("clock", f"{_when(now)}, within {abs(skew):.0f} s of the hub's")
    for what, floor in floors.items():
        if now < floor:
            return failed(
                "clock",
                f"{_when(now)} is before {what} ({_when(floor)}): volunteers' codes are refused; "
                "set the time (timedatectl, NTP)",
            )
    return passed("clock", f"{_when(now)}, after {' and '.join(floors)} (not compared with a hub)")


# --- all of it -----------------------------------------------------------------------------


def run(config_path: Path, out: Callable[[str], None] = print, clock: Callable[[], float] = time.time) -> int:
    try:
        config = load(config_path)
    except ConfigError as exc:
        out(failed("configuration", f"{config_path} is not valid").line())
        for problem in exc.problems:
            out(problem)
        return 2
    checks = [passed("configuration", f"{config_path} is valid")]
    out(checks[0].line())

    def report(check: Check) -> None:
        checks.append(check)
        out(check.line())

    store_check, usable = check_store(config)
    report(store_check)
    floors = {"this program's files": build_floor()}
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(opened_store(config)) if usable else None
        report(check_board(config, store))
        last_sync = store.setting(LAST_GOOD_SYNC) if store is not None else None
        if last_sync:
            floors["the last good sync"] = float(last_sync)
    report(check_scanner(config))
    report(check_font())
    hub_check, hub_time = check_hub(config)
    report(hub_check)
    report(check_clock(clock(), hub_time, floors))
    return 0 if all(c.ok for c in checks) else 1
