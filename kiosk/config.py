"""The kiosk's configuration: a TOML file, or the embedded demo configuration.

Everything a site may change lives here: where the SQLite file is, which issuers'
codes are accepted, the caps and timeouts, which machine to drive. Missing keys take
the defaults below; a bad value stops start-up with a message that names the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from .core.offline import OfflinePolicy
from .core.rules import Limits
from .core.session import Timeouts

APP_NAME = "timebank-kiosk"


class MachineKind(StrEnum):
    SIMULATED = "simulated"
    LANE_BOARD = "lane_board"


@dataclass(frozen=True)
class Config:
    db_path: Path
    issuers: tuple[str, ...]
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    machine: MachineKind = MachineKind.SIMULATED
    port: str | None = None
    """The lane board's serial port URL (``/dev/ttyUSB0``, ``socket://…``)."""
    hub_url: str | None = None
    """The time bank's hub (``https://hub.example/``); none: the kiosk runs on its own."""
    hub_token: str | None = None
    sync_interval_s: float = 60.0
    offline: OfflinePolicy = field(default_factory=OfflinePolicy)
    scanner_port: str | None = None
    """A 2D scanner in serial mode (lines ending in CR/LF); a keyboard-wedge scanner needs none."""
    sim_turn_s: float = 1.2
    language: str = "zh"
    fullscreen: bool = False
    demo: bool = False


class ConfigError(ValueError):
    pass


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def parse(data: dict[str, Any], base: Path) -> Config:
    try:
        store = _section(data, "store")
        codes = _section(data, "codes")
        limits = _section(data, "limits")
        timeouts = _section(data, "timeouts")
        machine = _section(data, "machine")
        ui = _section(data, "ui")
        scanner = _section(data, "scanner")
        hub = _section(data, "hub")
        offline = _section(data, "offline")
        db = Path(store.get("path", default_data_dir() / "kiosk.db")).expanduser()
        issuers = codes.get("issuers")
        if not issuers or not all(isinstance(i, str) for i in issuers):
            raise ConfigError("[codes] issuers must list at least one issuer")
        if machine.get("kind") == MachineKind.LANE_BOARD and not machine.get("port"):
            raise ConfigError('[machine] kind = "lane_board" needs a port')
        return Config(
            db_path=db if db.is_absolute() else base / db,
            issuers=tuple(issuers),
            limits=Limits(**limits),
            timeouts=Timeouts(**timeouts),
            machine=MachineKind(machine.get("kind", "simulated")),
            port=machine.get("port"),
            scanner_port=scanner.get("port"),
            hub_url=hub.get("url"),
            hub_token=hub.get("token"),
            sync_interval_s=float(hub.get("sync_interval_s", 60)),
            offline=OfflinePolicy(**offline),
            sim_turn_s=float(machine.get("sim_turn_s", 1.2)),
            language=str(ui.get("language", "zh")),
            fullscreen=bool(ui.get("fullscreen", False)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad configuration: {exc}") from exc


def load(path: Path) -> Config:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"no configuration file at {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse(data, path.parent)


DEMO_ISSUER = "timebank-demo"


def demo_config(data_dir: Path, *, turn_s: float = 1.2) -> Config:
    return Config(
        db_path=data_dir / "demo-kiosk.db",
        issuers=(DEMO_ISSUER,),
        sim_turn_s=turn_s,
        demo=True,
    )
