"""A signing key's life: active (signs) → retired (verifies) → out of the trust list once every
code it can have signed has expired. Rotations never break a printed five-year card.

Before, a key retired at the second rotation after it and left the JWKS, so every card it
had signed was refused as ``unknown_key`` at each kiosk's next sync.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select, text

from hub import cli, sync
from hub.db import MIGRATIONS, migrate, open_engine
from hub.models import SigningKey
from hub.service import KEEP_S, Hub, UnknownKey
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.sync import Syncer
from protocol.codes import (
    LEEWAY_S,
    MAX_LIFETIME_S,
    CodeKind,
    CodeReason,
    CodeVerifier,
    MemoryReplay,
    TrustList,
)
from protocol.sqlite import run_migrations
from protocol.sync import PullPage
from tests.helpers import FakeClock, InProcessHub

HOURS = "record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,赵小明,3,助老,2026-11-01\n".encode()
YEAR = 365 * 86400


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp())


@pytest.fixture
def timed(hub: Hub, clock: FakeClock) -> Hub:
    """The test's hub on a clock the test moves."""
    return Hub(hub.engine, kek=hub.kek, clock=clock)


def kiosk_trust(hub: Hub) -> TrustList:
    """The trust list a kiosk receives: a pull page's, through its JSON and the protocol's model."""
    page = PullPage.model_validate_json(sync.pull(hub, 0).model_dump_json())
    return TrustList(page.jwks.model_dump(), page.revoked)


def verdict(hub: Hub, code: str, now: float) -> CodeReason | None:
    return CodeVerifier(kiosk_trust(hub), MemoryReplay(), [hub.issuer]).verify(code, now=int(now)).reason


def kid_of(code: str) -> str:
    return str(jwt.get_unverified_header(code)["kid"])


def test_a_card_still_works_after_three_rotations_and_to_its_last_day(timed: Hub, clock: FakeClock) -> None:
    timed.import_hours(HOURS)
    card = timed.issue_code("V1", CodeKind.CARD)
    for _ in range(3):
        clock.advance(YEAR)
        timed.rotate_key()
    assert kid_of(card) in kiosk_trust(timed).kids
    assert verdict(timed, card, clock()) is None  # three years and three keys later
    expires = jwt.decode(card, options={"verify_signature": False})["exp"]
    clock.t = expires  # its last second
    assert verdict(timed, card, clock()) is None
    clock.t = expires + LEEWAY_S + 1
    assert verdict(timed, card, clock()) is CodeReason.EXPIRED
    # its key signed for a year more: it stays until a card made on its last day has expired
    (first,) = [k for k in timed.signing_keys() if k["kid"] == kid_of(card)]
    clock.t = dt.datetime.fromisoformat(first["keep_until"]).timestamp()
    assert kid_of(card) not in kiosk_trust(timed).kids
    clock.advance(-1)
    assert kid_of(card) in kiosk_trust(timed).kids


def test_exactly_one_key_signs_and_a_rotation_retires_it(timed: Hub, clock: FakeClock) -> None:
    timed.import_hours(HOURS)
    first = timed.rotate_key()
    clock.advance(60)
    second = timed.rotate_key()
    assert kid_of(timed.issue_code("V1", CodeKind.CARD)) == second
    states = {k["kid"]: k for k in timed.signing_keys()}
    assert [k["state"] for k in states.values()].count("active") == 1 and states[second]["state"] == "active"
    assert states[first]["state"] == "retired" and states[first]["in_jwks"]
    retired = dt.datetime.fromisoformat(states[first]["retired"])
    assert retired.timestamp() == clock()
    keep_until = dt.datetime.fromisoformat(states[first]["keep_until"]).timestamp()
    # kept until the last code it can have signed has expired: a card made the second before
    assert keep_until - retired.timestamp() == KEEP_S >= MAX_LIFETIME_S[CodeKind.CARD] + LEEWAY_S
    assert max(MAX_LIFETIME_S.values()) + LEEWAY_S <= KEEP_S
    assert states[second]["retired"] is None and states[second]["keep_until"] is None


def test_a_key_past_its_keep_until_leaves_the_jwks(timed: Hub, clock: FakeClock) -> None:
    old = timed.rotate_key()
    new = timed.rotate_key()
    clock.advance(KEEP_S - 1)
    assert {k["kid"] for k in timed.jwks()["keys"]} == {old, new}
    clock.advance(1)
    assert [k["kid"] for k in timed.jwks()["keys"]] == [new]
    assert list(kiosk_trust(timed).kids) == [new]
    (listed,) = [k for k in timed.signing_keys() if k["kid"] == old]
    assert listed["state"] == "retired" and listed["in_jwks"] is False


def test_a_leaked_key_is_dropped_at_once_and_the_active_one_is_not(timed: Hub, clock: FakeClock) -> None:
    timed.import_hours(HOURS)
    card = timed.issue_code("V1", CodeKind.CARD)
    leaked = kid_of(card)
    timed.rotate_key()
    timed.drop_key(leaked)
    assert leaked not in kiosk_trust(timed).kids
    assert verdict(timed, card, clock()) is CodeReason.UNKNOWN_KEY
    active = next(k["kid"] for k in timed.signing_keys() if k["state"] == "active")
    with pytest.raises(ValueError, match="is the active key"):
        timed.drop_key(active)
    with pytest.raises(UnknownKey):
        timed.drop_key("hub-nope")


def test_a_kiosk_syncing_after_three_rotations_accepts_the_card(hub: Hub, tmp_path: Path) -> None:
    """The whole way: the kiosk's store keeps every key a pull page brings (no limit on their
    number), and its verifier accepts a card signed three keys ago, and a technician's code."""
    hub.import_hours(HOURS)
    hub.set_technician("T01", "刘师傅", "246810")
    card = hub.issue_code("V1", CodeKind.CARD)
    for _ in range(3):
        hub.rotate_key()
    tech = hub.issue_code("T01", CodeKind.TECH)
    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=(hub.issuer,))
    kiosk: Parts = bootstrap(config)
    try:
        kiosk_id = hub.add_kiosk("驿站-1")["kiosk_id"]
        assert Syncer(kiosk.store, InProcessHub(hub, kiosk_id)).run_once().ok
        kiosk.service.reload_trust()
        assert len(kiosk.service.verifier.trust.kids) == 4
        scanned = kiosk.service.scan(card)
        assert scanned.notice is None and scanned.volunteer is not None and scanned.volunteer.available == 30
        assert kiosk.service.scan(tech).tech_id == "T01"
    finally:
        kiosk.close()


@pytest.fixture
def older_hub(db_url: str) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """A hub at h0006 whose keys the old rotation left: one retired, one live but no longer
    signing, the newest signing. Yields the URL and each key's (kid, created_at)."""
    engine = open_engine(db_url)
    run_migrations(engine, MIGRATIONS, "h0006")
    keys = [("hub-a", 1_700_000_000, True), ("hub-b", 1_750_000_000, False), ("hub-c", 1_780_000_000, False)]
    with engine.begin() as con:
        for n, (kid, created, retired) in enumerate(keys, start=1):
            con.execute(
                text(
                    "INSERT INTO signing_keys (kid, private_key, public_jwk, created_at, generation, "
                    "retired) VALUES (:kid, 'sealed', :jwk, :created, :n, :retired)"
                ),
                {"kid": kid, "jwk": json.dumps({"kid": kid}), "created": created, "n": n, "retired": retired},
            )
    engine.dispose()
    yield db_url, [(kid, created) for kid, created, _ in keys]


def test_the_migration_keeps_every_older_key_until_its_last_code_has_expired(
    older_hub: tuple[str, list[tuple[str, int]]],
) -> None:
    db_url, keys = older_hub
    engine = open_engine(db_url)
    migrate(engine)
    with engine.connect() as con:
        rows = {k.kid: k for k in con.execute(select(SigningKey.__table__))}
    (a, _), (b, b_made), (c, c_made) = keys
    # each stopped signing when the key after it was made
    assert (rows[a].retired, rows[a].retired_at, rows[a].keep_until) == (True, b_made, b_made + KEEP_S)
    assert (rows[b].retired, rows[b].retired_at, rows[b].keep_until) == (True, c_made, c_made + KEEP_S)
    assert (rows[c].retired, rows[c].retired_at, rows[c].keep_until) == (False, None, None)
    hub = Hub(engine, clock=lambda: c_made + 3 * YEAR)
    # the key the old rotation had dropped is back: the cards it signed work again
    assert [k["kid"] for k in hub.jwks()["keys"]] == [a, b, c]
    assert [k["kid"] for k in Hub(engine, clock=lambda: b_made + KEEP_S).jwks()["keys"]] == [b, c]
    engine.dispose()


def test_the_key_commands_print_states_and_the_jwks_and_no_private_key(
    hub_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> str:
        assert cli.main(["--db", hub_url, *args]) == 0
        out, _ = capsys.readouterr()
        return out

    (first,) = json.loads(run("key", "list"))
    assert first["state"] == "active" and first["retired"] is None
    rotated = json.loads(run("key", "rotate"))
    listed = json.loads(run("key", "list"))
    assert rotated["keys"] == listed
    assert [(k["kid"], k["state"]) for k in listed] == [(first["kid"], "retired"), (rotated["kid"], "active")]
    for k in listed:
        assert set(k) == {"kid", "state", "created", "retired", "keep_until", "in_jwks"}
        assert dt.datetime.fromisoformat(k["created"]).tzinfo is not None
    retired, kept = (dt.datetime.fromisoformat(listed[0][f]) for f in ("retired", "keep_until"))
    assert kept > retired
    jwks = json.loads(run("jwks"))
    engine = open_engine(hub_url)
    try:
        assert jwks == Hub(engine).jwks()
        assert [k["kid"] for k in jwks["keys"]] == [first["kid"], rotated["kid"]]
        with engine.connect() as con:
            sealed = [str(v) for v in con.execute(select(SigningKey.private_key)).scalars()]
    finally:
        engine.dispose()
    assert all(set(k) == {"kty", "crv", "x", "kid", "use", "alg"} for k in jwks["keys"])  # no "d"
    dropped = json.loads(run("key", "drop", first["kid"]))
    assert [k["in_jwks"] for k in dropped] == [False, True]
    printed = "".join(run(*c) for c in (["key", "list"], ["jwks"], ["key", "rotate"]))
    assert "PRIVATE" not in printed and '"d"' not in printed
    assert not any(s[10:60] in printed for s in sealed)
    assert cli.main(["--db", hub_url, "key", "drop", "hub-nope"]) == 1
    err = capsys.readouterr().err
    assert err == "kiosk-hub: no signing key hub-nope; `kiosk-hub key list` prints each key's kid\n"


def test_rotate_needs_the_key_encryption_key_and_list_does_not(
    hub_url: str, hub_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub_key_file.unlink()
    assert cli.main(["--db", hub_url, "key", "list"]) == 0
    assert cli.main(["--db", hub_url, "jwks"]) == 0
    capsys.readouterr()
    assert cli.main(["--db", hub_url, "key", "rotate"]) == 2
    assert capsys.readouterr().err.startswith("kiosk-hub: the key-encryption key is missing")


def test_a_new_hub_has_one_active_key(hub: Hub) -> None:
    hub.ensure_key()
    hub.ensure_key()
    assert [k["state"] for k in hub.signing_keys()] == ["active"]
