"""The one logging setup (``protocol/logs.py``): journal under systemd, a rotating file in the
user log directory otherwise, and a filter that rewrites anything shaped like a secret."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from protocol.logs import LOG_DIR_VARIABLE, log_file, logging_config, redact

SCRIPT = """
import logging, sys
from protocol.logs import setup_logging
print(setup_logging("timebank-kiosk", "kiosk"))
log = logging.getLogger("kiosk.test")
log.info("a vend: lane %d", 3)
log.warning("a fault: %s", "board not answering")
log.warning("what a careless line would say: Authorization: Bearer %s", sys.argv[1])
"""


def run(env: dict[str, str], token: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, token], capture_output=True, text=True, timeout=60, cwd=root, env=env
    )


def plain_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "INVOCATION_ID")}
    env[LOG_DIR_VARIABLE] = str(tmp_path / "logs")
    return env


def test_under_systemd_every_line_goes_to_stderr_without_a_timestamp(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    out = run({**plain_env(tmp_path), "INVOCATION_ID": "0123456789abcdef"}, token)
    assert out.stdout == "None\n"  # no log file
    assert out.stderr.splitlines() == [
        "<6>INFO kiosk.test: a vend: lane 3",
        "<4>WARNING kiosk.test: a fault: board not answering",
        "<4>WARNING kiosk.test: what a careless line would say: Authorization: Bearer [redacted]",
    ]
    assert not (tmp_path / "logs").exists()
    journal = run({**plain_env(tmp_path), "JOURNAL_STREAM": "8:12345"}, token)
    assert journal.stderr == out.stderr


def test_otherwise_a_rotating_file_in_the_log_folder_and_warnings_on_stderr(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    out = run(plain_env(tmp_path), token)
    path = tmp_path / "logs" / "kiosk.log"
    assert out.stdout == f"{path}\n"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "INFO kiosk.test: a vend: lane 3",
        "WARNING kiosk.test: a fault: board not answering",
        "WARNING kiosk.test: what a careless line would say: Authorization: Bearer [redacted]",
    ]
    assert lines[0][:2] == "20" and lines[0][10] == " "  # a date and a time first
    assert [line.split(" ", 2)[2] for line in out.stderr.splitlines()] == [
        "WARNING kiosk.test: a fault: board not answering",
        "WARNING kiosk.test: what a careless line would say: Authorization: Bearer [redacted]",
    ]
    assert token not in out.stderr + path.read_text(encoding="utf-8")


def test_the_file_is_in_the_platforms_user_log_folder_unless_one_is_given() -> None:
    expected = Path(platformdirs.user_log_dir("timebank-hub", appauthor=False)) / "hub.log"
    assert log_file("timebank-hub", "hub", environ={}) == expected
    given = {LOG_DIR_VARIABLE: "/var/log/x"}
    assert log_file("timebank-hub", "hub", environ=given) == Path("/var/log/x/hub.log")
    config = logging_config("timebank-hub", "hub", environ={})
    assert config["handlers"]["file"]["class"] == "logging.handlers.RotatingFileHandler"
    assert config["handlers"]["file"]["filename"] == str(expected)
    assert {"uvicorn", "uvicorn.access", "uvicorn.error"} <= set(config["loggers"])
    assert config["disable_existing_loggers"] is False  # module loggers made before it still log
    json.dumps(config)  # plain data: uvicorn hands it to each worker process


# made up for these redaction cases: shaped like a token, issued by no hub
TOKEN = "kR3x_9QzP0-aLm7vB2nYc8TfWj4HsDe1GuIoKpZrXq"


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (f"headers {{'Authorization': 'Bearer {TOKEN}'}}", "headers {'Authorization': 'Bearer [redacted]'}"),
        (f'[hub]\ntoken = "{TOKEN}"', '[hub]\ntoken = "[redacted]"'),
        (f"kiosk token {TOKEN} issued", "kiosk token [token] issued"),
        (f"x={TOKEN}&y=1", "x=[token]&y=1"),
        ("hub refused this kiosk's token: HTTP 401 to /v1/sync/push", None),
        ("event 0123abcd-0000-4000-8000-000000000000 acknowledged", None),
        ("digest " + "ab12" * 16, None),
        ("test_a_name_too_long_at_line_1202_is_refused", None),
        ("pin scrypt$00112233445566778899aabbccddeeff$0123abcd", "pin scrypt$[redacted]"),
        ("-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY----- done", "[private key] done"),
    ],
)
def test_the_filter_rewrites_what_looks_like_a_secret(line: str, said: str | None) -> None:
    assert redact(line) == (line if said is None else said)
    assert redact(redact(line)) == redact(line)  # each handler's filter runs on the record


def test_a_code_is_named_by_its_card_id(world) -> None:  # type: ignore[no-untyped-def]
    code = world.code("card")
    from protocol.codes import card_id

    jti = card_id(code)
    assert jti is not None
    assert redact(f"scanned {code} at the door") == f"scanned [code {jti[:8]}] at the door"
    assert redact(f"scanned {code[:-1]}") == f"scanned [code {jti[:8]}]"  # damaged, still a code
