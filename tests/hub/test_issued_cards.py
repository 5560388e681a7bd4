"""The hub records every card it signs; ``revoke-card`` of an id it never issued is an error.

Before, ``kiosk-hub revoke-card nonsense`` answered ``{"revoked": "nonsense"}`` and exit 0
while the lost card, whose id had been mistyped, went on working. Technicians get codes
and printed cards from the hub too (before, only demo mode signed ``tech`` codes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from hub import cards as cards_module
from hub import cli
from hub.db import open_engine
from hub.service import Hub
from protocol.codes import MAX_LIFETIME_S, CodeKind, CodeVerifier, MemoryReplay, TrustList

HOURS = "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V0001,赵小明,3,助老,2026-11-01\n"


@pytest.fixture
def hub_cli(hub_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """``kiosk-hub --db URL ARGS...`` in this process: (exit code, stdout, stderr)."""
    hours = tmp_path / "hours.csv"
    hours.write_text(HOURS)
    assert cli.main(["--db", hub_url, "import-hours", str(hours)]) == 0
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--db", hub_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def with_hub(hub_url: str) -> Hub:
    return Hub(open_engine(hub_url))


def claims(code: str) -> dict[str, Any]:
    return dict(jwt.decode(code, options={"verify_signature": False}))


def test_revoking_a_card_the_hub_never_issued_is_an_error(hub_cli: Any, hub_url: str) -> None:
    code, out, err = hub_cli("revoke-card", "nonsense")
    assert (code, out) == (1, "")
    assert err == (
        "kiosk-hub: no card nonsense was issued by this hub; `cards --of VOLUNTEER_ID` prints each card's id "
        "(a card printed before the hub recorded its cards: --unlisted)\n"
    )
    hub = with_hub(hub_url)
    assert hub.revoked() == []
    hub.engine.dispose()


def test_a_lost_card_is_found_by_its_holder_and_revoked(hub_cli: Any, hub_url: str, tmp_path: Path) -> None:
    code, out, _ = hub_cli("cards", "V0001", "--out", str(tmp_path / "sheet.pdf"))
    assert code == 0
    (printed,) = json.loads(out)["card_ids"]
    assert printed["volunteer_id"] == "V0001"
    code, out, _ = hub_cli("code", "issue", "V0001", "--kind", "card")
    second = claims(out.strip())["jti"]
    hub_cli("code", "issue", "V0001")  # a phone code: a minute's life, not recorded
    code, out, _ = hub_cli("cards", "--of", "V0001")
    listed = {c["card_id"]: c for c in json.loads(out)}  # oldest first; these two within a second
    assert code == 0 and {(i, c["kind"], c["revoked"]) for i, c in listed.items()} == {
        (printed["card_id"], "card", None),
        (second, "card", None),
    }
    assert listed[printed["card_id"]]["expires"] == printed["expires"]
    assert not listed[printed["card_id"]]["expired"]
    code, out, _ = hub_cli("revoke-card", printed["card_id"])
    assert code == 0 and json.loads(out) == {"revoked": printed["card_id"], "holder": "V0001", "listed": True}
    hub = with_hub(hub_url)
    assert hub.revoked() == [printed["card_id"]]
    hub.engine.dispose()
    revoked = {c["card_id"]: c["revoked"] for c in json.loads(hub_cli("cards", "--of", "V0001")[1])}
    assert revoked[printed["card_id"]] is not None and revoked[second] is None
    assert hub_cli("revoke-card", printed["card_id"])[0] == 0  # again: still revoked, once
    assert hub_cli("cards", "--of", "V404") == (1, "", "kiosk-hub: no volunteer or technician V404\n")


def test_a_card_printed_before_cards_were_recorded_is_revoked_with_unlisted(
    hub_cli: Any, hub_url: str
) -> None:
    code, out, _ = hub_cli("revoke-card", "0f3c9a1e6b2d4c8e9a7b5d3c1e0f2a4b", "--unlisted")
    assert code == 0
    assert json.loads(out) == {"revoked": "0f3c9a1e6b2d4c8e9a7b5d3c1e0f2a4b", "holder": None, "listed": False}
    hub = with_hub(hub_url)
    assert hub.revoked() == ["0f3c9a1e6b2d4c8e9a7b5d3c1e0f2a4b"]
    hub.engine.dispose()
    code, _, err = hub_cli("revoke-card", "--unlisted")  # without an id
    assert (
        code == 2 and err == "kiosk-hub: revoke-card: give a CARD_ID or --all-of VOLUNTEER_ID (one of them)\n"
    )
    code, _, err = hub_cli("revoke-card", "--unlisted", "--all-of", "V0001")
    assert code == 2 and err == "kiosk-hub: revoke-card: --unlisted goes with a CARD_ID\n"


def test_the_help_documents_the_escape(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["revoke-card", "--help"])
    assert "--unlisted" in capsys.readouterr().out


def test_every_card_of_a_volunteer_can_be_revoked_at_once(hub_cli: Any, hub_url: str) -> None:
    ids = [claims(hub_cli("code", "issue", "V0001", "--kind", "card")[1].strip())["jti"] for _ in range(2)]
    code, out, _ = hub_cli("revoke-card", "--all-of", "\u3000V0001 ")
    assert code == 0 and json.loads(out) == {"volunteer_id": "V0001", "revoked": ids}
    code, out, err = hub_cli("revoke-card", "--all-of", "V0001")  # none left
    assert code == 1 and json.loads(out)["revoked"] == [] and err.count("\n") == 1
    assert hub_cli("revoke-card", "--all-of", "V404") == (1, "", "kiosk-hub: no volunteer V404\n")


def test_a_technician_gets_a_code_from_the_hub(hub_cli: Any, hub_url: str) -> None:
    code, out, err = hub_cli("code", "issue", "T01", "--kind", "tech")
    assert (code, out, err) == (
        1,
        "",
        "kiosk-hub: no active technician T01; add one with kiosk-hub tech add T01 NAME\n",
    )
    hub = with_hub(hub_url)
    hub.set_technician("T01", "刘师傅", "246810")
    code, out, _ = hub_cli("code", "issue", "\u3000T01", "--kind", "tech")
    tech = out.strip()
    verdict = CodeVerifier(TrustList(hub.jwks(), []), MemoryReplay(), [hub.issuer]).verify(tech)
    assert verdict.claims is not None and verdict.claims.kind is CodeKind.TECH and verdict.claims.sub == "T01"
    assert verdict.claims.name == "刘师傅"
    assert verdict.claims.exp - verdict.claims.iat == MAX_LIFETIME_S[CodeKind.TECH]
    assert [c["kind"] for c in hub.cards_of("T01")] == ["tech"]
    # kiosks do not check a technician code's revocation: saying it was revoked would be a lie
    code, out, err = hub_cli("revoke-card", verdict.claims.jti)
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "kiosk-hub tech remove T01" in err and hub.revoked() == []
    hub.remove_technician("T01")
    hub.engine.dispose()
    assert hub_cli("code", "issue", "T01", "--kind", "tech")[0] == 1
    assert hub_cli("code", "issue", "T02", "--kind", "tech")[0] == 1


def test_technicians_cards_say_so_and_carry_their_code(
    hub_cli: Any, hub_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = with_hub(hub_url)
    hub.set_technician("T01", "刘师傅", "246810")
    hub.set_technician("T02", "陈师傅", "135790")
    hub.engine.dispose()
    drawn: list[cards_module.Card] = []
    real_write = cards_module.write

    def write(made: list[cards_module.Card], path: Path) -> int:
        drawn.extend(made)
        return real_write(made, path)

    monkeypatch.setattr(cards_module, "write", write)
    code, out, _ = hub_cli("cards", "--tech", "T01", "T02", "--out", str(tmp_path / "techs.pdf"))
    assert code == 0 and json.loads(out)["pages"] == 1
    assert [c["tech_id"] for c in json.loads(out)["card_ids"]] == ["T01", "T02"]
    assert (tmp_path / "techs.pdf").read_bytes().startswith(b"%PDF")
    assert [(c.holder_id, c.name) for c in drawn] == [("T01", "刘师傅"), ("T02", "陈师傅")]
    assert all(c.caption.startswith("技术员 / Technician · 有效至 ") for c in drawn)
    assert [claims(c.code)["kind"] for c in drawn] == ["tech", "tech"]
    code, _, err = hub_cli("cards", "--tech", "T01", "T09", "--out", str(tmp_path / "more.pdf"))
    assert (
        code == 1 and err == "kiosk-hub: no active technician T09; add one with kiosk-hub tech add T09 NAME\n"
    )
    assert not (tmp_path / "more.pdf").exists()
    hub = with_hub(hub_url)
    assert len(hub.cards_of("T01")) == 1  # nothing issued for a sheet that was refused
    hub.engine.dispose()
