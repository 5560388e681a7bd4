"""The configuration file: defaults, the example file, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, MachineKind, load, parse

EXAMPLE = Path(__file__).parents[1] / "config" / "kiosk.example.toml"


def test_the_example_configuration_loads() -> None:
    config = load(EXAMPLE)
    assert config.issuers == ("timebank-hub",)
    assert config.limits.per_item_per_day == 2 and config.machine is MachineKind.SIMULATED


def test_a_lane_board_needs_a_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a port"):
        parse({"codes": {"issuers": ["hub"]}, "machine": {"kind": "lane_board"}}, tmp_path)
    config = parse(
        {
            "codes": {"issuers": ["hub"]},
            "machine": {"kind": "lane_board", "port": "loop://"},
            "store": {"path": "k.db"},
        },
        tmp_path,
    )
    assert config.port == "loop://" and config.db_path == tmp_path / "k.db"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"codes": {"issuers": []}},
        {"codes": {"issuers": ["hub"]}, "limits": {"per_visit_items": 0}},
        {"codes": {"issuers": ["hub"]}, "limits": {"per_day": 3}},
        {"codes": {"issuers": ["hub"]}, "machine": {"kind": "teleporter"}},
        {"codes": "hub"},
    ],
)
def test_bad_configurations_say_what_is_wrong(tmp_path: Path, data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse(data, tmp_path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no configuration file"):
        load(tmp_path / "nope.toml")


def test_run_with_a_missing_board_port_says_so(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "k.db"}"\n[codes]\nissuers = ["hub"]\n'
        '[machine]\nkind = "lane_board"\nport = "/dev/no-such-board"\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 2
    assert "cannot open /dev/no-such-board" in out.stderr and "Traceback" not in out.stderr
