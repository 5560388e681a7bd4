"""The shipped systemd units and udev rules say what the README promises of them."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[1] / "deploy"


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_the_kiosk_unit_is_watched_and_restarted() -> None:
    service = unit("timebank-kiosk.service")["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "all"
    assert int(service["WatchdogSec"]) > 0 and service["Restart"] == "always"
    start = service["ExecStart"]
    assert start.startswith("/usr/bin/cage ") and "/kiosk run --config " in start
    assert "kiosk config check" in service["ExecStartPre"]
    assert service["RestartPreventExitStatus"] == "64"  # the technician's "leave to the desktop"
    assert "dialout" in service["SupplementaryGroups"]


def test_the_hub_unit_takes_its_key_as_a_credential() -> None:
    service = unit("timebank-hub.service")["Service"]
    assert service["LoadCredential"].startswith("hub-kek:")
    assert " serve " in service["ExecStart"] and service["Restart"] == "always"


@pytest.mark.parametrize("name", ["timebank-kiosk.service", "timebank-hub.service"])
def test_systemd_reads_the_units(name: str) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    out = subprocess.run([analyze, "verify", "--man=no", str(DEPLOY / name)], capture_output=True, text=True)
    # the programs live on the kiosk PC, not here: everything else systemd says is a fault
    complaints = [line for line in out.stderr.splitlines() if line and "is not executable" not in line]
    assert complaints == []


def test_udev_gives_the_board_and_the_scanner_stable_names() -> None:
    rules = [
        line
        for line in (DEPLOY / "99-timebank-kiosk.rules").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pair = re.compile(r'^[A-Za-z]+(\{[^}]+\})?(==|!=|\+=|=)"[^"]*"$')
    for line in rules:
        assert all(pair.match(part.strip()) for part in line.split(",")), line
    links = {re.search(r'SYMLINK\+="([^"]+)"', line).group(1) for line in rules}  # type: ignore[union-attr]
    assert links == {"lane-board", "code-scanner"}
    assert all('GROUP="dialout"' in line for line in rules)
