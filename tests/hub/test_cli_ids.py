"""Every id ``kiosk-hub`` is given is trimmed (full-width spaces too, NFKC as the hours import
reads them); one with a space or a control character inside is refused in one line, exit 2.

Before, ``kiosk-hub balance "V0001 "`` (pasted with its space) answered "no volunteer".
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from hub import cli

HOURS = "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V0001,赵小明,3,助老,2026-11-01\n"
PADDED = "\u3000Ｖ0001 "  # a full-width space and letter, as a Chinese input method types them


@pytest.fixture
def run(hub_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    hours = tmp_path / "hours.csv"
    hours.write_text(HOURS)
    assert cli.main(["--db", hub_url, "import-hours", str(hours)]) == 0
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--db", hub_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_a_padded_volunteer_id_is_the_volunteer(run: Any, tmp_path: Path) -> None:
    assert json.loads(run("balance", PADDED)[1]) == {"volunteer_id": "V0001", "balance": 30, "flagged": False}
    code = run("code", "issue", PADDED)[1].strip()
    assert jwt.decode(code, options={"verify_signature": False})["sub"] == "V0001"
    printed = json.loads(run("cards", PADDED, "--out", str(tmp_path / "c.pdf"))[1])["card_ids"]
    assert [c["volunteer_id"] for c in printed] == ["V0001"]
    (listed,) = json.loads(run("cards", "--of", f" {PADDED}\t")[1])
    assert listed["card_id"] == printed[0]["card_id"]
    revoked = json.loads(run("revoke-card", f" {printed[0]['card_id']}\u3000")[1])
    assert revoked["revoked"] == printed[0]["card_id"]


def test_a_padded_technician_id_is_the_technician(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("246810\n"))
    assert run("tech", "add", " T01\u3000", "刘师傅") == (0, '{"technician": "T01", "active": true}\n', "")
    code = run("code", "issue", "Ｔ01 ", "--kind", "tech")[1].strip()
    assert jwt.decode(code, options={"verify_signature": False})["sub"] == "T01"
    assert run("tech", "remove", "\tT01") == (0, '{"technician": "T01", "active": false}\n', "")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["balance", "V 0001"], "volunteer id: 'V 0001' contains U+0020"),
        (["balance", "V\u30000001"], "volunteer id: 'V 0001' contains U+0020"),
        (["balance", " \u3000"], "volunteer id: is empty"),
        (["code", "issue", "V\t0001"], "volunteer id: 'V\\t0001' contains U+0009"),
        (["code", "issue", "T 01", "--kind", "tech"], "technician id: 'T 01' contains U+0020"),
        (["cards", "V0001", "V 2", "--out", "sheet.pdf"], "volunteer id: 'V 2' contains U+0020"),
        (["cards", "--tech", "T 01", "--out", "sheet.pdf"], "technician id: 'T 01' contains U+0020"),
        (["cards", "--of", "V 0001"], "id: 'V 0001' contains U+0020"),
        (["revoke-card", "--all-of", "V 0001"], "volunteer id: 'V 0001' contains U+0020"),
        (["revoke-card", "abc def"], "card id: 'abc def' contains U+0020"),
        (["revoke-card", "x" * 101, "--unlisted"], "card id: 101 characters, at most 100"),
        (["tech", "add", "T 01", "刘师傅"], "technician id: 'T 01' contains U+0020"),
        (["tech", "remove", "T\x0001"], "technician id: 'T\\x0001' contains U+0000"),
    ],
)
def test_an_id_with_a_space_inside_is_refused_in_one_line_before_the_database_is_opened(
    args: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "hub.db"
    assert cli.main(["--db", f"sqlite:///{missing}", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"kiosk-hub: {said}") and err.count("\n") == 1
    assert not missing.exists()
