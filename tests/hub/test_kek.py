"""Signing keys are sealed with a key-encryption key kept outside the database.

The database alone signs nothing; keys stored plain by an older hub are sealed the next
time it starts; a hub whose sealed keys have lost their key says so in one line and
exits 2, never making a new signing key over them.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from hub import cli
from hub.db import MIGRATIONS, open_engine
from hub.kek import SEALED, Kek, KekError, find_kek, make_key_file
from hub.models import SigningKey
from hub.service import Hub
from protocol.codes import CodeKind, CodeVerifier, MemoryReplay, TrustList, public_jwk
from protocol.sqlite import run_migrations

HOURS = b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,1,x,2026-11-01\n"


def stored_keys(hub: Hub) -> dict[str, str]:
    with hub.reading() as s:
        return {k.kid: k.private_key for k in s.scalars(select(SigningKey))}


def verifies(hub: Hub, code: str) -> bool:
    return CodeVerifier(TrustList(hub.jwks(), []), MemoryReplay(), [hub.issuer]).verify(code).ok


def test_a_signing_key_read_from_the_database_alone_cannot_sign(hub: Hub) -> None:
    kid = hub.rotate_key()
    (stored,) = stored_keys(hub).values()
    assert stored.startswith(SEALED) and "PRIVATE KEY" not in stored
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(stored.encode(), password=None)
    with pytest.raises(KekError, match=f"does not open signing key {kid}"):
        Kek.generate().open(kid, stored)  # another key-encryption key
    assert hub.kek is not None
    with pytest.raises(KekError, match="does not open"):
        hub.kek.open("hub-another-kid", stored)  # the kid is bound in: a row copied elsewhere
    key = serialization.load_pem_private_key(hub.kek.open(kid, stored).encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)


def test_keys_an_older_hub_stored_plain_are_sealed_on_the_next_start(
    db_url: str, hub_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = open_engine(db_url)
    run_migrations(engine, MIGRATIONS, "h0004")  # a hub deployed before keys were sealed
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO signing_keys (kid, private_pem, public_jwk, created_at, generation, retired) "
                "VALUES ('hub-old', :pem, :jwk, 0, 1, false)"
            ),
            {"pem": pem, "jwk": json.dumps(public_jwk(key, "hub-old"))},
        )
    engine.dispose()

    assert cli.main(["--db", db_url, "init"]) == 0  # what `serve` does before it serves
    assert "made a new key-encryption key in" in capsys.readouterr().err
    engine = open_engine(db_url)
    hub = Hub(engine, kek=find_kek(hub_key_file))
    stored = stored_keys(hub)
    assert list(stored) == ["hub-old"] and stored["hub-old"].startswith(SEALED)
    hub.import_hours(HOURS)
    code = hub.issue_code("V1", CodeKind.CARD)  # still signed with the old key, now opened with the KEK
    assert verifies(hub, code)
    with engine.connect() as con:  # the old PEM is nowhere in the database any more
        plain = text("SELECT count(*) FROM signing_keys WHERE private_key LIKE '%PRIVATE KEY%'")
        assert con.execute(plain).scalar() == 0
    engine.dispose()


def test_a_hub_without_its_key_encryption_key_says_so_in_one_line_and_exits_2(
    db_url: str, hub_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--db", db_url, "init"]) == 0
    capsys.readouterr()
    engine = open_engine(db_url)
    before = stored_keys(Hub(engine))
    hub_key_file.unlink()
    for command in (["serve"], ["code", "issue", "V1"], ["key", "rotate"], ["init"]):
        assert cli.main(["--db", db_url, *command]) == 2
        err = capsys.readouterr().err
        assert err.startswith("kiosk-hub: the key-encryption key is missing") and err.count("\n") == 1
        assert "Traceback" not in err and str(hub_key_file) in err
    assert stored_keys(Hub(engine)) == before  # no new signing key over the sealed ones
    assert not hub_key_file.exists()  # and no new key-encryption key either
    engine.dispose()


def test_a_wrong_or_malformed_key_encryption_key_is_refused_in_one_line(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--db", db_url, "init"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("HUB_KEK", Kek.generate().encoded())  # goes before the key file
    assert cli.main(["--db", db_url, "code", "issue", "V1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kiosk-hub: the key-encryption key in HUB_KEK does not open signing key hub-")
    assert err.count("\n") == 1
    monkeypatch.setenv("HUB_KEK", "c2hvcnQ=")
    assert cli.main(["--db", db_url, "serve"]) == 2
    assert (
        capsys.readouterr().err == "kiosk-hub: the key-encryption key in HUB_KEK is not 32 bytes in base64\n"
    )


def test_the_key_can_come_from_the_environment_or_systemds_credentials(
    tmp_path: Path, hub_key_file: Path
) -> None:
    kek = Kek.generate()
    assert find_kek(hub_key_file, {}) is None
    found = find_kek(hub_key_file, {"HUB_KEK": kek.encoded()})
    assert found is not None and found.secret == kek.secret and found.where == "HUB_KEK"
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "hub-kek").write_text(kek.encoded() + "\n")
    found = find_kek(hub_key_file, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert found is not None and found.secret == kek.secret and found.where == str(credentials / "hub-kek")


def test_the_key_file_is_made_private_and_one_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config" / "timebank-hub" / "hub-kek"
    kek = make_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = find_kek(path, {})
    assert found is not None and found.secret == kek.secret
    with pytest.raises(KekError, match="cannot create"):
        make_key_file(path)  # never over an existing key
    os.chmod(path, 0o644)
    with pytest.raises(KekError, match=r"may be read by others \(mode 0644\): chmod 600"):
        find_kek(path, {})


def test_a_hub_given_no_key_encryption_key_cannot_sign(hub: Hub) -> None:
    hub.import_hours(HOURS)
    with pytest.raises(KekError, match="no key-encryption key"):
        Hub(hub.engine).issue_code("V1")
