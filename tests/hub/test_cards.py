"""Printed cards: the sheet carries the very code the hub signed, and verifies at a kiosk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import qrcode
from PIL import Image

from hub.cards import Card, _qr, sheets, write
from hub.db import open_engine
from hub.service import Hub
from protocol.codes import CodeKind, CodeVerifier, MemoryReplay, TrustList


def test_the_drawn_qr_is_the_code_matrix() -> None:
    text = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJWMSJ9.c2ln"
    image = _qr(text, 400)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    module = image.width // len(matrix)
    drawn = [
        [
            image.getpixel((x * module + module // 2, y * module + module // 2)) == 0
            for x in range(len(matrix))
        ]
        for y in range(len(matrix))
    ]
    assert drawn == matrix


def test_a_sheet_of_cards_verifies_and_pages(hub: Hub, tmp_path: Path) -> None:
    hub.import_hours(
        b"record_id,volunteer_id,name,hours,activity,certified_on\n"
        + "".join(f"R{i},V{i},志愿者{i},1,a,2026-11-01\n" for i in range(9)).encode()
    )
    cards = [Card(f"V{i}", f"志愿者{i}", hub.issue_code(f"V{i}", CodeKind.CARD)) for i in range(9)]
    verifier = CodeVerifier(TrustList(hub.jwks(), hub.revoked()), MemoryReplay(), [hub.issuer])
    assert all(verifier.verify(c.code).ok for c in cards)
    assert len(sheets(cards)) == 2
    assert write(cards, tmp_path / "sheet.pdf") == 2
    pdf = (tmp_path / "sheet.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Count 2" in pdf
    write(cards[:3], tmp_path / "sheet.png")
    assert Image.open(tmp_path / "sheet.png").size == (2480, 3508)


def test_the_cards_command(hub_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "h.csv"
    csv_file.write_text(
        "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,赵小明,1,a,2026-11-01\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "--db", hub_url, *args], capture_output=True, text=True, timeout=60
        )

    assert run("import-hours", str(csv_file)).returncode == 0
    out = run("cards", "V1", "--out", str(tmp_path / "c.pdf"))
    assert out.returncode == 0 and json.loads(out.stdout)["pages"] == 1
    (card,) = json.loads(out.stdout)["card_ids"]
    assert card["volunteer_id"] == "V1" and len(card["card_id"]) >= 16
    revoked = run("revoke-card", card["card_id"])  # the volunteer lost it
    assert revoked.returncode == 0
    assert json.loads(revoked.stdout) == {"revoked": card["card_id"], "holder": "V1", "listed": True}
    engine = open_engine(hub_url)
    try:
        assert Hub(engine).revoked() == [card["card_id"]]
    finally:
        engine.dispose()
    first = json.loads(run("key", "rotate").stdout)
    second = json.loads(run("key", "rotate").stdout)
    states = [(k["kid"], k["state"], k["in_jwks"]) for k in second["keys"]]
    assert states[1:] == [(first["kid"], "retired", True), (second["kid"], "active", True)]
    assert run("cards", "nobody", "--out", str(tmp_path / "x.pdf")).returncode == 1
    assert run("cards", "V1", "--out", str(tmp_path / "x.txt")).returncode == 2
