"""A volunteer's printed card may have a PIN: set and cleared at the hub, kept as a slow hash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.models import CardPin
from hub.service import Hub, UnknownVolunteer
from protocol.pins import pin_matches

HOURS = b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V0001,A,2,a,2026-11-01\n"


def stored(hub: Hub, volunteer_id: str) -> CardPin | None:
    with hub.reading() as s:
        return s.get(CardPin, volunteer_id)


def test_a_card_pin_is_kept_as_a_slow_hash_and_cleared_as_a_row_without_one(hub: Hub) -> None:
    hub.import_hours(HOURS)
    hub.set_card_pin("V0001", "135790")
    row = stored(hub, "V0001")
    assert row is not None and row.pin_hash is not None
    assert row.pin_hash.startswith("scrypt$") and "135790" not in row.pin_hash
    assert pin_matches("135790", row.pin_hash) and not pin_matches("135791", row.pin_hash)
    assert row.stamp == 1  # the ledger's last sequence: the hours credit
    assert hub.clear_card_pin("V0001") is True
    cleared = stored(hub, "V0001")
    assert cleared is not None and cleared.pin_hash is None  # kiosks must hear of the clearing
    assert hub.clear_card_pin("V0001") is False  # nothing left to clear
    actions = [(a["action"], a["target"]) for a in hub.audit_log()]
    assert actions == [("card_pin_set", "volunteer:V0001"), ("card_pin_cleared", "volunteer:V0001")]
    assert "135790" not in json.dumps(hub.audit_log())


@pytest.mark.parametrize("pin", ["12345", "1234567", "12345a", "１２３４５６", "", " 123456"])
def test_a_card_pin_is_exactly_six_ascii_digits(hub: Hub, pin: str) -> None:
    hub.import_hours(HOURS)
    with pytest.raises(ValueError, match="6 digits") as refused:
        hub.set_card_pin("V0001", pin)
    assert pin.strip() == "" or pin.strip() not in str(refused.value)
    assert stored(hub, "V0001") is None


def test_a_card_pin_for_a_volunteer_the_hub_does_not_know_is_refused(hub: Hub) -> None:
    with pytest.raises(UnknownVolunteer):
        hub.set_card_pin("V0404", "135790")
    with pytest.raises(UnknownVolunteer):
        hub.clear_card_pin("V0404")
    with hub.reading() as s:
        assert list(s.scalars(select(CardPin))) == []


def test_the_card_pin_commands(db_url: str, tmp_path: Path) -> None:
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "--db", db_url, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    csv = tmp_path / "hours.csv"
    csv.write_bytes(HOURS)
    assert run("import-hours", str(csv)).returncode == 0
    set_ = run("card-pin", "set", "V0001", stdin="246813\n")
    assert set_.returncode == 0, set_.stderr
    assert json.loads(set_.stdout) == {"volunteer_id": "V0001", "card_pin": True}
    unknown = run("card-pin", "set", "V0404", stdin="246813\n")
    assert unknown.returncode == 1 and unknown.stderr == "kiosk-hub: no volunteer V0404\n"
    bad = run("card-pin", "set", "V0001", stdin="24681\n")
    assert bad.returncode == 2 and bad.stderr == "kiosk-hub: a card PIN is 6 digits\n"
    for done in (set_, unknown, bad):
        assert "246813" not in done.stdout + done.stderr and "24681" not in done.stdout + done.stderr
    cleared = run("card-pin", "clear", "V0001")
    assert cleared.returncode == 0 and json.loads(cleared.stdout) == {"volunteer_id": "V0001", "card_pin": False}
    assert run("card-pin", "clear", "V0404").returncode == 1
