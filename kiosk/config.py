"""The kiosk's configuration: a TOML file, or the embedded demo configuration.

Everything a site may change lives here: where the SQLite file is, which issuers'
codes are accepted, the caps and timeouts, which machine to drive. The file is checked
whole against a closed schema before anything starts: an unknown section or key, a value
of the wrong type (``"30s"`` for seconds, ``"false"`` for a switch), out of range or
missing is an error naming the file, the line and the key, with the nearest valid name
(``kiosk.toml:17: unknown section [machne] — did you mean [machine]?``). Every problem
is reported at once; nothing starts on a file with any. Keys left out take the defaults
of the core's own dataclasses.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .core.offline import OfflinePolicy
from .core.rules import Limits
from .core.session import Timeouts

APP_NAME = "timebank-kiosk"
LANGUAGES = ("zh", "en")


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
    locked: bool = False
    """Frameless, on top, not closable but by a technician (a kiosk run from a file: on)."""
    hide_cursor: bool = False
    demo: bool = False

    @property
    def pictures_dir(self) -> Path:
        """Where the hub catalogue's pictures are kept, beside the database."""
        return self.db_path.parent / "pictures"


class ConfigError(ValueError):
    """A configuration that cannot be used: one line per problem in ``problems``."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(self.problems))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


# --- the schema: closed sections, strict types, ranges --------------------------------


def _text(value: str) -> str:
    if not value.strip() or any(ord(c) < 32 for c in value):
        raise ValueError("must be a non-empty line of text")
    return value


def _hub_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// address with a host, not {value!r}")
    return value


Text = Annotated[str, AfterValidator(_text)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]
"""A duration in seconds, a TOML number (``30``, ``2.5``): ``"30s"`` is not one."""
_T, _O, _L = Timeouts(), OfflinePolicy(), Limits()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Store(_Section):
    path: Text | None = None


class _Codes(_Section):
    issuers: Annotated[list[Text], Field(min_length=1)]


class _Limits(_Section):
    per_visit_items: Annotated[int, Field(ge=1, le=50)] = _L.per_visit_items
    per_item_per_day: Annotated[int, Field(ge=1, le=100)] = _L.per_item_per_day


class _Timeouts(_Section):
    identified: Seconds = _T.identified
    choosing: Seconds = _T.choosing
    confirming: Seconds = _T.confirming
    result: Seconds = _T.result
    tech_pin: Seconds = _T.tech_pin
    tech: Seconds = _T.tech
    card_pin: Seconds = _T.card_pin


class _Machine(_Section):
    kind: Literal["simulated", "lane_board"]
    port: Text | None = None
    sim_turn_s: Annotated[float, Field(gt=0, le=30)] = 1.2

    @model_validator(mode="after")
    def _board_has_a_port(self) -> _Machine:
        if self.kind == "lane_board" and not self.port:
            raise ValueError('kind = "lane_board" needs a port')
        return self


class _Scanner(_Section):
    port: Text | None = None


class _Hub(_Section):
    url: Annotated[str, AfterValidator(_hub_url)] | None = None
    token: Text | None = None
    sync_interval_s: Annotated[float, Field(ge=5, le=86_400)] = 60.0

    @model_validator(mode="after")
    def _url_and_token_together(self) -> _Hub:
        if bool(self.url) != bool(self.token):
            raise ValueError("url and token go together: both, or neither (a kiosk on its own)")
        return self


class _Offline(_Section):
    offline_after_s: Annotated[int, Field(ge=0, le=30 * 86_400)] = _O.offline_after_s
    daily_cap: Annotated[int, Field(ge=0, le=1_000_000)] = _O.daily_cap
    total_cap: Annotated[int, Field(ge=0, le=10_000_000)] = _O.total_cap
    trust_max_age_s: Annotated[int, Field(ge=0, le=365 * 86_400)] = _O.trust_max_age_s


class _Ui(_Section):
    language: Literal["zh", "en"] = "zh"
    fullscreen: bool = True
    locked: bool = True
    hide_cursor: bool = True
    """No pointer on a touchscreen; false for a kiosk worked with a mouse."""


class _File(_Section):
    store: _Store = _Store()
    codes: _Codes
    limits: _Limits = _Limits()
    timeouts: _Timeouts = _Timeouts()
    machine: _Machine
    scanner: _Scanner = _Scanner()
    hub: _Hub = _Hub()
    offline: _Offline = _Offline()
    ui: _Ui = _Ui()


SECTIONS = {name: f.annotation for name, f in _File.model_fields.items()}


# --- reading a file, and saying where it is wrong -------------------------------------


def parse(data: dict[str, Any], base: Path, source: str = "kiosk.toml", text: str = "") -> Config:
    """The configuration ``data`` (a parsed TOML document) describes, or every problem in it.

    ``source`` names the file in messages and ``text`` is its content, for line numbers;
    relative store paths are read from ``base``.
    """
    try:
        f = _File.model_validate(data)
    except ValidationError as exc:
        where = _Lines(text)
        found = sorted((_problem(source, where, e) for e in exc.errors()), key=lambda p: p[0])
        raise ConfigError([message for _, message in found]) from None
    db = Path(f.store.path).expanduser() if f.store.path else default_data_dir() / "kiosk.db"
    return Config(
        db_path=db if db.is_absolute() else base / db,
        issuers=tuple(f.codes.issuers),
        limits=Limits(**f.limits.model_dump()),
        timeouts=Timeouts(**f.timeouts.model_dump()),
        machine=MachineKind(f.machine.kind),
        port=f.machine.port,
        scanner_port=f.scanner.port,
        hub_url=f.hub.url,
        hub_token=f.hub.token,
        sync_interval_s=f.hub.sync_interval_s,
        offline=OfflinePolicy(**f.offline.model_dump()),
        sim_turn_s=f.machine.sim_turn_s,
        language=f.ui.language,
        fullscreen=f.ui.fullscreen,
        locked=f.ui.locked,
        hide_cursor=f.ui.hide_cursor,
    )


def load(path: Path) -> Config:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no configuration file at {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse(data, path.parent, source=str(path), text=text)


class _Lines:
    """Where each ``[section]`` and each ``key =`` of a TOML text is (1-based lines)."""

    HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
    KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*[.=]""")

    def __init__(self, text: str) -> None:
        self.sections: dict[str, int] = {}
        self.keys: dict[tuple[str, str], int] = {}
        section = ""
        for number, line in enumerate(text.splitlines(), start=1):
            if m := self.HEADER.match(line):
                section = m.group(1).split(".")[0].strip("\"'")
                self.sections.setdefault(section, number)
            elif m := self.KEY.match(line):
                self.keys.setdefault((section, m.group(1).strip("\"'")), number)

    def of(self, loc: tuple[Any, ...]) -> int | None:
        if len(loc) >= 2 and (found := self.keys.get((str(loc[0]), str(loc[1])))):
            return found
        if loc and (found := self.sections.get(str(loc[0]))):
            return found
        return self.keys.get(("", str(loc[0]))) if loc else None


def _problem(source: str, where: _Lines, error: Any) -> tuple[int, str]:
    """(line, message) for one of pydantic's errors; line 0 where none applies."""
    loc = tuple(p for p in error["loc"] if not isinstance(p, int))
    line = where.of(loc)
    return line or 0, _message(f"{source}:{line}" if line else source, loc, error)


def _message(at: str, loc: tuple[Any, ...], error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden" and len(loc) == 1:
        if isinstance(error["input"], dict):
            return f"{at}: unknown section [{loc[0]}]{_nearest(loc[0], SECTIONS)}"
        return f"{at}: unknown key {loc[0]} outside any section{_nearest(loc[0], SECTIONS, '[{}]')}"
    if kind == "extra_forbidden":
        known = _keys(loc[0])
        return f"{at}: unknown key {loc[-1]} in [{loc[0]}]{_nearest(loc[-1], known, '{}')}"
    if kind == "missing" and len(loc) == 1:
        return f"{at}: the section [{loc[0]}] is missing (it is required)"
    if kind == "missing":
        return f"{at}: [{loc[0]}] {loc[-1]} is missing (it is required)"
    if kind == "model_type" and len(loc) == 1:
        return f"{at}: [{loc[0]}] must be a section (a table), not {error['input']!r}"
    name = f"[{loc[0]}] " + ".".join(str(p) for p in loc[1:]) if len(loc) > 1 else f"[{loc[0]}]"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in ("bool_type", "float_type", "int_type", "string_type", "literal_error", "enum"):
        message = f"{message}, not {error['input']!r}"
    return f"{at}: {name}: {message}"


def _keys(section: str) -> tuple[str, ...]:
    model = SECTIONS.get(section)
    return tuple(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else ()


def _nearest(name: object, names: Any, form: str = "[{}]") -> str:
    close = difflib.get_close_matches(str(name), list(names), n=1, cutoff=0.6)
    return f" — did you mean {form.format(close[0])}?" if close else ""


DEMO_ISSUER = "timebank-demo"


def demo_config(data_dir: Path, *, turn_s: float = 1.2) -> Config:
    return Config(
        db_path=data_dir / "demo-kiosk.db",
        issuers=(DEMO_ISSUER,),
        sim_turn_s=turn_s,
        demo=True,
    )
