"""A kiosk's token can be revoked (it stops at once) and rotated (the old one works for a grace period).

Every hub process remembers the tokens it saw for a minute; a revocation in one process
(the command line) reaches another within ``REVOCATION_CHECK_S`` through the token
generation. Each change is audited at the hub, and ``kiosk list`` shows each token's state.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub import cli
from hub.app import create_api
from hub.service import Hub, UnknownClient
from hub.tokens import REVOCATION_CHECK_S, TOKEN_CACHE_S

ROOT = Path(__file__).resolve().parents[2]


class Ticks:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def other_process(hub: Hub, clock: Ticks | None = None, monotonic: Ticks | None = None) -> Hub:
    """Another hub worker on the same database: its own remembered tokens."""
    return Hub(hub.engine, kek=hub.kek, clock=clock or Ticks(), monotonic=monotonic or Ticks())


def test_a_revoked_token_stops_at_once_here_and_within_the_check_interval_in_another_process(
    hub: Hub,
) -> None:
    added = hub.add_kiosk("驿站-1")
    token, kiosk_id = added["token"], added["kiosk_id"]
    ticks = Ticks(0.0)
    worker = other_process(hub, monotonic=ticks)
    assert worker.client_for_token(token) == kiosk_id
    assert worker.remembered_client(token) == kiosk_id  # remembered: no database
    assert hub.client_for_token(token) == kiosk_id

    hub.revoke_client(kiosk_id)
    assert hub.remembered_client(token) is None and hub.client_for_token(token) is None  # at once here
    # the other process still trusts what it remembers, for less than the check interval...
    ticks.now += REVOCATION_CHECK_S / 2
    assert worker.client_for_token(token) == kiosk_id
    # ...and no longer: it reads the generation, forgets, and finds the kiosk revoked
    ticks.now += REVOCATION_CHECK_S / 2
    assert worker.remembered_client(token) is None
    assert worker.client_for_token(token) is None
    ticks.now += TOKEN_CACHE_S
    assert worker.client_for_token(token) is None


def test_a_revocation_from_the_command_line_reaches_a_serving_hub_within_a_second(
    hub: Hub, db_url: str
) -> None:
    added = hub.add_kiosk("驿站-1")
    ticks = Ticks(0.0)
    client = TestClient(create_api(other_process(hub, monotonic=ticks)))
    auth = {"Authorization": f"Bearer {added['token']}"}
    assert client.get("/v1/sync/pull", headers=auth).status_code == 200
    done = subprocess.run(
        [sys.executable, "-m", "hub", "--db", db_url, "kiosk", "revoke", added["kiosk_id"]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kiosk_id"] == added["kiosk_id"]
    ticks.now += REVOCATION_CHECK_S
    refused = client.get("/v1/sync/pull", headers=auth)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_rotated_token_keeps_working_for_its_grace_then_stops(hub: Hub) -> None:
    clock = Ticks()
    here = Hub(hub.engine, kek=hub.kek, clock=clock)
    old = here.add_kiosk("驿站-1")
    kiosk_id = old["kiosk_id"]
    assert here.client_for_token(old["token"]) == kiosk_id  # remembered as the current token
    new = here.rotate_token(kiosk_id, grace_s=3600)
    assert new["previous_token_until"] == int(clock.now) + 3600
    assert here.client_for_token(new["token"]) == kiosk_id
    assert here.client_for_token(old["token"]) == kiosk_id  # the kiosk has an hour to switch
    clock.now += 3599
    assert here.remembered_client(old["token"]) == kiosk_id
    clock.now += 1
    assert here.remembered_client(old["token"]) is None  # what is remembered ends with the grace
    assert here.client_for_token(old["token"]) is None
    assert here.client_for_token(new["token"]) == kiosk_id


def test_rotating_again_or_with_no_grace_stops_the_old_token_now(hub: Hub) -> None:
    first = hub.add_kiosk("驿站-1")
    kiosk_id = first["kiosk_id"]
    second = hub.rotate_token(kiosk_id)
    third = hub.rotate_token(kiosk_id)
    assert hub.client_for_token(first["token"]) is None  # only the one before the newest has a grace
    assert hub.client_for_token(second["token"]) == kiosk_id
    fourth = hub.rotate_token(kiosk_id, grace_s=0)
    assert fourth["previous_token_until"] is None
    assert hub.client_for_token(third["token"]) is None
    assert hub.client_for_token(fourth["token"]) == kiosk_id
    with pytest.raises(ValueError, match="negative"):
        hub.rotate_token(kiosk_id, grace_s=-1)


def test_a_revoked_kiosk_gets_a_new_token_and_its_stolen_one_no_grace(hub: Hub) -> None:
    stolen = hub.add_kiosk("驿站-1")
    kiosk_id = stolen["kiosk_id"]
    hub.rotate_token(kiosk_id)  # rotating: a previous token in its grace...
    when = hub.revoke_client(kiosk_id)
    assert hub.revoke_client(kiosk_id) == when  # revoking again changes nothing
    fresh = hub.rotate_token(kiosk_id)
    assert fresh["previous_token_until"] is None
    assert hub.client_for_token(stolen["token"]) is None
    assert hub.client_for_token(fresh["token"]) == kiosk_id
    assert [k["token"] for k in hub.kiosks()] == ["active"]


def test_a_kiosk_cannot_be_revoked_as_an_app_or_the_other_way_round(hub: Hub) -> None:
    kiosk = hub.add_kiosk("驿站-1")
    app = hub.add_kiosk("志愿者小程序", role="app")
    with pytest.raises(UnknownClient):
        hub.revoke_client(app["app_id"], "kiosk")
    with pytest.raises(UnknownClient):
        hub.rotate_token(kiosk["kiosk_id"], "app")
    with pytest.raises(UnknownClient):
        hub.revoke_client("no-such-kiosk")
    hub.revoke_client(app["app_id"], "app")
    assert hub.client_for_token(app["token"], "app") is None
    assert hub.client_for_token(kiosk["token"]) == kiosk["kiosk_id"]


def test_kiosk_list_shows_each_token_state_and_the_hub_audits_every_change(hub: Hub) -> None:
    clock = Ticks()
    here = Hub(hub.engine, kek=hub.kek, clock=clock)
    ids = {name: here.add_kiosk(name)["kiosk_id"] for name in ("驿站-1", "驿站-2", "驿站-3")}
    here.rotate_token(ids["驿站-2"], grace_s=600)
    clock.now += 10
    here.revoke_client(ids["驿站-3"])
    listed = {k["name"]: k for k in here.kiosks()}
    assert set(listed["驿站-1"]) >= {"kiosk_id", "name", "last_report", "status"}  # as before, and:
    assert [
        (listed[n]["token"], listed[n]["revoked_at"], listed[n]["previous_token_until"]) for n in ids
    ] == [
        ("active", None, None),
        ("rotating", None, int(clock.now) - 10 + 600),
        ("revoked", int(clock.now), None),
    ]
    clock.now += 600
    assert {k["name"]: k["token"] for k in here.kiosks()}["驿站-2"] == "active"  # its grace is over
    log = here.audit_log()
    assert [(e["action"], e["target"], e["actor"], e["name"]) for e in log] == [
        ("token_rotated", f"kiosk:{ids['驿站-2']}", "kiosk-hub", "驿站-2"),
        ("token_revoked", f"kiosk:{ids['驿站-3']}", "kiosk-hub", "驿站-3"),
    ]
    assert [e["at"] for e in log] == [int(clock.now) - 610, int(clock.now) - 600]
    assert log[0]["previous_token_until"] == int(clock.now) - 10


def test_the_command_line_prints_a_new_token_revokes_and_lists(
    hub: Hub, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk_id = hub.add_kiosk("驿站-1")["kiosk_id"]

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("kiosk", "token", kiosk_id, "--grace-hours", "2")
    rotated = json.loads(out)
    assert code == 0 and rotated["kiosk_id"] == kiosk_id and rotated["previous_token_until"] is not None
    assert Hub(hub.engine).client_for_token(rotated["token"]) == kiosk_id
    code, out, _ = run("kiosk", "list")
    assert code == 0 and json.loads(out)[0]["token"] == "rotating"
    code, out, _ = run("kiosk", "revoke", kiosk_id)
    assert code == 0 and json.loads(out)["revoked_at"] > 0
    code, out, _ = run("kiosk", "list")
    assert json.loads(out)[0]["token"] == "revoked"
    code, _, err = run("kiosk", "revoke", "nobody")
    assert code == 1 and err == "kiosk-hub: no kiosk nobody\n"
    app_id = hub.add_kiosk("志愿者小程序", role="app")["app_id"]
    code, _, err = run("kiosk", "token", app_id)
    assert code == 1 and err.count("\n") == 1
    code, out, _ = run("app", "token", app_id, "--grace-hours", "0")
    assert code == 0 and json.loads(out)["app_id"] == app_id
    with pytest.raises(SystemExit) as bad:
        cli.main(["--db", db_url, "kiosk", "token", kiosk_id, "--grace-hours", "-1"])
    assert bad.value.code == 2
    assert [e["action"] for e in Hub(hub.engine).audit_log()] == [
        "token_rotated",
        "token_revoked",
        "token_rotated",
    ]


def test_a_kiosk_hub_can_revoke_without_its_key_encryption_key(
    hub: Hub, db_url: str, hub_key_file: Path
) -> None:
    """Revoking a stolen token must not wait for the key that seals the signing keys."""
    hub.ensure_key()  # sealed with a key this command does not have
    kiosk_id = hub.add_kiosk("驿站-1")["kiosk_id"]
    assert not hub_key_file.exists()
    assert cli.main(["--db", db_url, "kiosk", "revoke", kiosk_id]) == 0
    assert not hub_key_file.exists()
