"""A volunteer's printed card may have a PIN: set and cleared at the hub, kept as a slow hash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import sync
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


def test_the_card_pin_commands(hub_url: str, tmp_path: Path) -> None:
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "--db", hub_url, *args],
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
    assert cleared.returncode == 0
    assert json.loads(cleared.stdout) == {"volunteer_id": "V0001", "card_pin": False}
    assert run("card-pin", "clear", "V0404").returncode == 1


# --- down to the kiosks, in the pull pages ---------------------------------------------------


def more_hours(hub: Hub, record: str, volunteer: str = "V0002") -> None:
    hub.import_hours(
        f"record_id,volunteer_id,name,hours,activity,certified_on\n{record},{volunteer},B,1,a,2026-11-01\n".encode()
    )


def test_a_pin_set_or_cleared_reaches_a_kiosk_at_its_next_pull_though_no_balance_moved(hub: Hub) -> None:
    hub.import_hours(HOURS)
    head = sync.pull(hub, 0).cursor
    assert sync.pull(hub, head).card_pins == []  # the kiosk is up to date: nothing to say
    hub.set_card_pin("V0001", "135790")
    page = sync.pull(hub, head)
    assert page.volunteers == [] and page.cursor == head  # no balance moved
    assert page.card_pins is not None
    ((volunteer, pin_hash),) = page.card_pins
    assert volunteer == "V0001" and pin_hash is not None and pin_matches("135790", pin_hash)
    assert sync.pull(hub, head).card_pins == page.card_pins  # again, until the ledger moves on
    more_hours(hub, "R2")
    assert sync.pull(hub, head).card_pins == page.card_pins  # the page past the stamp carries it
    assert sync.pull(hub, head + 1).card_pins == []  # a kiosk past it has it already
    hub.clear_card_pin("V0001")
    assert sync.pull(hub, head + 1).card_pins == [("V0001", None)]  # the clearing travels too


def test_a_first_sync_carries_every_pin_once_page_by_page(hub: Hub) -> None:
    hub.import_hours(HOURS)
    hub.set_card_pin("V0001", "135790")  # stamped 1
    for n in range(2, 6):
        more_hours(hub, f"R{n}", f"V000{n}")
    hub.set_card_pin("V0003", "246802")  # stamped 5
    seen: list[str] = []
    cursor = 0
    while True:
        page = sync.pull(hub, cursor, limit=2)
        seen += [vid for vid, _ in page.card_pins or []]
        if not page.more:
            break
        cursor = page.cursor
    assert seen == ["V0001", "V0003"]


def test_a_kiosk_that_never_stored_pins_asks_from_an_older_cursor(hub: Hub) -> None:
    """A kiosk upgraded from protocol 3 is at cursor 5 with no PIN: it asks from 0 once."""
    hub.import_hours(HOURS)
    hub.set_card_pin("V0001", "135790")
    for n in range(2, 6):
        more_hours(hub, f"R{n}", f"V000{n}")
    assert sync.pull(hub, 5).card_pins == []
    caught_up = sync.pull(hub, 5, pins_cursor=0)
    assert caught_up.cursor == 5 and [vid for vid, _ in caught_up.card_pins or []] == ["V0001"]
