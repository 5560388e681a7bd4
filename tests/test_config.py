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
    # a kiosk run from a file is locked down unless the file says otherwise
    assert (config.fullscreen, config.locked, config.hide_cursor) == (True, True, True)
    bare = parse({"codes": {"issuers": ["hub"]}, "machine": {"kind": "simulated"}}, EXAMPLE.parent)
    assert (bare.fullscreen, bare.locked, bare.hide_cursor) == (True, True, True)


def test_a_lane_board_needs_a_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='kind = "lane_board" needs a port'):
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
        {"codes": {"issuers": ["hub"]}},
        {
            "codes": {"issuers": ["hub"]},
            "machine": {"kind": "simulated"},
            "hub": {"url": "https://hub.example"},
        },
        {"codes": {"issuers": ["hub"]}, "machine": {"kind": "simulated"}, "region": "east"},
        {"codes": {"issuers": ["hub\u0000"]}, "machine": {"kind": "simulated"}},
    ],
)
def test_bad_configurations_say_what_is_wrong(tmp_path: Path, data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse(data, tmp_path)


SITE_FILE = """\
# a site's file, with the mistakes found when tried as a new user would
[store]
path = "k.db"

[codes]
issuers = ["timebank-hub"]

[timeouts]
identified = "30s"
choosing = 60

[machne]
kind = "lane_board"
port = "/dev/lane-board"

[hub]
url = "htp//hub"
token = "t0ken-for-this-kiosk"
sync_interval_s = -5

[ui]
language = "fr"
fullscreen = "false"
fulscreen = true
"""


def test_every_problem_is_named_with_its_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(SITE_FILE, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == [
        f"{path}: the section [machine] is missing (it is required)",
        f"{path}:9: [timeouts] identified: Input should be a valid number, not '30s'",
        f"{path}:12: unknown section [machne] — did you mean [machine]?",
        f"{path}:17: [hub] url: must be an http:// or https:// address with a host, not 'htp//hub'",
        f"{path}:19: [hub] sync_interval_s: Input should be greater than or equal to 5",
        f"{path}:22: [ui] language: Input should be 'zh' or 'en', not 'fr'",
        f"{path}:23: [ui] fullscreen: Input should be a valid boolean, not 'false'",
        f"{path}:24: unknown key fulscreen in [ui] — did you mean fullscreen?",
    ]


def test_a_key_outside_any_section_and_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('machine = "lane_board"\n[codes]\nissuers = ["hub"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == [f"{path}:1: [machine] must be a section (a table), not 'lane_board'"]
    path.write_text(
        'machin = 1\n[codes]\nissuers = ["hub"]\n[machine]\nkind = "simulated"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == [
        f"{path}:1: unknown key machin outside any section — did you mean [machine]?"
    ]


def test_config_check_prints_ok_or_each_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    assert main(["config", "check", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "ok\n"
    bad = tmp_path / "kiosk.toml"
    bad.write_text(SITE_FILE, encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.splitlines()) == 8
    assert f"{bad}:12: unknown section [machne] — did you mean [machine]?" in out.err.splitlines()


def test_run_refuses_a_file_that_fails_the_check_before_any_window(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    bad = tmp_path / "kiosk.toml"
    bad.write_text(SITE_FILE.replace('path = "k.db"', f'path = "{tmp_path / "k.db"}"'), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{bad}:12: unknown section [machne] — did you mean [machine]?" in out.stderr.splitlines()
    assert not (tmp_path / "k.db").exists(), "nothing is created from a file that fails the check"


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
