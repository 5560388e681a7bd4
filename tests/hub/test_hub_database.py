"""Only ``kiosk-hub init`` creates a hub database; a URL that cannot be opened is one line, exit 2.

A mistyped ``--db`` once made a new, empty hub silently (every command migrated whatever
it was pointed at): a volunteer's balance then read "no volunteer" from the wrong file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from hub import cli
from hub.app import api_from_env
from hub.db import MIGRATIONS, NoHubDatabase, open_engine
from protocol.sqlite import run_migrations

COMMANDS = [
    ["balance", "V1"],
    ["code", "issue", "V1"],
    ["cards", "V1", "--out", "sheet.pdf"],
    ["revoke-card", "some-card"],
    ["key", "rotate"],
    ["kiosk", "add", "驿站-1"],
    ["kiosk", "list"],
    ["app", "add", "志愿者小程序"],
    ["tech", "remove", "T1"],
    ["import-hours", "hours.csv"],
    ["quarantine"],
    ["serve"],
    ["serve", "--workers", "2"],
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tables(db_url: str) -> list[str]:
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_no_command_but_init_creates_a_hub_database(
    db_url: str, command: list[str], capsys: pytest.CaptureFixture[str], hub_key_file: Path
) -> None:
    code, out, err = run(capsys, "--db", db_url, *command)
    assert (code, out) == (2, "")
    assert err == f"kiosk-hub: no hub database at {db_url}; create one with kiosk-hub init\n"
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()  # no file, no -wal either
        assert list(Path(db_url.removeprefix("sqlite:///")).parent.glob("hub.db*")) == []
    else:  # the server's database exists, empty: it stays empty
        assert tables(db_url) == []
    assert not hub_key_file.exists()  # nor a key-encryption key for a hub that is not there


def test_an_empty_file_is_no_hub_database_and_stays_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "hub.db"
    empty.touch()
    code, _, err = run(capsys, "--db", f"sqlite:///{empty}", "balance", "V1")
    assert (
        code == 2
        and err == f"kiosk-hub: no hub database at sqlite:///{empty}; create one with kiosk-hub init\n"
    )
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["hub.db"]


def test_init_creates_it_and_then_every_command_works(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--db", db_url, "init")[0] == 0
    assert run(capsys, "--db", db_url, "kiosk", "list") == (0, "[]\n", "")
    code, _, err = run(capsys, "--db", db_url, "balance", "V1")
    assert (code, err) == (1, "kiosk-hub: no volunteer V1\n")


def test_a_hub_at_an_older_revision_is_still_upgraded(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = open_engine(db_url)
    run_migrations(engine, MIGRATIONS, "h0005")
    assert run(capsys, "--db", db_url, "kiosk", "list") == (0, "[]\n", "")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() != "h0005"
        assert "token_generation" in inspect(conn).get_table_names()  # h0006's
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://nobody@127.0.0.1:1/x", "cannot reach the hub database at "),
        ("postgresql+psycopg://nobody:s3cret@127.0.0.1:1/x", "cannot reach the hub database at "),
        ("notadriver://x", "cannot open the hub database at notadriver://x: Can't load plugin"),
        ("no url at all", "cannot open the hub database at no url at all: Could not parse"),
        ("sqlite:////no/such/dir/h.db", "no hub database at sqlite:////no/such/dir/h.db; create one with"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_2(
    url: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", url, "balance", "V1")
    assert (code, out) == (2, "")
    assert err.startswith(f"kiosk-hub: {said}") and err.count("\n") == 1
    assert "Traceback" not in err and "s3cret" not in err
    assert not Path("/no/such/dir").exists()


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody:s3cret@127.0.0.1:1/x", "notadriver://x"])
def test_init_on_a_database_that_cannot_be_opened_is_one_line_and_exit_2(
    url: str, capsys: pytest.CaptureFixture[str], hub_key_file: Path
) -> None:
    code, out, err = run(capsys, "--db", url, "init")
    assert (code, out) == (2, "")
    assert err.startswith("kiosk-hub: cannot ") and err.count("\n") == 1 and "s3cret" not in err
    assert not hub_key_file.exists()


def test_init_where_no_file_can_be_made_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").touch()
    code, _, err = run(capsys, "--db", f"sqlite:///{tmp_path / 'a-file' / 'hub.db'}", "init")
    assert (
        code == 2 and err.startswith("kiosk-hub: cannot open the hub database at ") and err.count("\n") == 1
    )


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text_file = tmp_path / "notes.db"
    text_file.write_text("shopping list\n" * 100)
    code, _, err = run(capsys, "--db", f"sqlite:///{text_file}", "kiosk", "list")
    assert (
        code == 2 and err.startswith("kiosk-hub: cannot open the hub database at ") and err.count("\n") == 1
    )
    assert text_file.read_text() == "shopping list\n" * 100


def test_a_serve_worker_creates_no_database_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_key_file: Path
) -> None:
    """``serve --workers N`` starts workers on ``hub.app:api_from_env``: the same rule holds there."""
    from hub.kek import make_key_file

    make_key_file(hub_key_file)
    missing = tmp_path / "typo.db"
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{missing}")
    with pytest.raises(NoHubDatabase, match="no hub database at"):
        api_from_env()
    assert not missing.exists()
