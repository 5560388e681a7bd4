"""A sync that fails says why in words, against real failures: a closed port, a hub that
refuses the token, a server answering 503, a name that does not resolve, a server that
never answers, a certificate nobody trusts.

The same sentence (Chinese from the catalogue, English second) is in the sync's report,
the ``kiosk sync --once`` command's answer, the log, and (in the screen's language) the
technician screen's sync line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.service import Hub
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.core.sync_problems import SyncFailure, SyncProblem
from kiosk.sync import HubClient, Syncer, SyncReport
from kiosk.ui.wording import sync_line
from tests.helpers import free_port, self_signed, serving


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Parts]:
    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=("timebank-hub",))
    parts = bootstrap(config)
    yield parts
    parts.close()


def sync(kiosk: Parts, url: str, token: str = "not-a-token", timeout_s: float = 5.0) -> SyncReport:
    return Syncer(kiosk.store, HubClient(url, token, timeout_s=timeout_s)).run_once()


async def answers_503(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A hub behind a proxy whose upstream is down: every request gets a 503 page."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"<h1>503 Service Unavailable</h1>"})


def test_a_closed_port_is_the_hub_unreachable(kiosk: Parts, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    with caplog.at_level(logging.INFO, logger="kiosk.sync"):
        report = sync(kiosk, f"http://127.0.0.1:{port}")
    assert report.problem == SyncProblem(SyncFailure.UNREACHABLE, f"connection refused (127.0.0.1:{port})")
    assert report.error == f"中心无法连接 / hub unreachable: connection refused (127.0.0.1:{port})"
    assert report.as_json()["problem"] == "unreachable"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "kiosk.sync"]
    assert line == f"sync failed (pushed 0, pulled 0): {report.error}"
    assert "urlopen error" not in line and "Errno" not in line


def test_a_refused_token_is_said_so(
    hub_server: tuple[Hub, str], kiosk: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    _, url = hub_server
    with caplog.at_level(logging.INFO, logger="kiosk.sync"):
        report = sync(kiosk, url, token="stolen-and-revoked-token-0123456789")
    assert report.problem is not None and report.problem.kind is SyncFailure.TOKEN
    assert report.error is not None
    said = "中心拒绝了本机的令牌 / hub refused this kiosk's token: HTTP 401 to /v1/sync/push"
    assert report.error.startswith(said)
    assert "stolen-and-revoked" not in caplog.text


def test_a_503_is_a_hub_error(kiosk: Parts) -> None:
    with serving(answers_503) as url:
        report = sync(kiosk, url)
    assert report.error == "中心出错 / hub error: HTTP 503 to /v1/sync/push"


def test_a_name_that_does_not_resolve(kiosk: Parts) -> None:
    report = sync(kiosk, "https://hub.invalid:8700")
    assert report.problem is not None and report.problem.kind is SyncFailure.NAME
    assert report.error is not None and report.error.startswith(
        "中心的域名无法解析 / hub's name does not resolve: hub.invalid: "
    )


def test_a_hub_that_never_answers_is_a_timeout(kiosk: Parts) -> None:
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever reads it
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        report = sync(kiosk, f"http://127.0.0.1:{port}", timeout_s=0.5)
    said = "中心没有及时答复 / hub did not answer in time: no answer within 0.5 s"
    assert report.error == f"{said} (127.0.0.1:{port})"


def test_a_certificate_nobody_trusts_is_a_tls_failure(kiosk: Parts, tmp_path: Path) -> None:
    with serving(answers_503, tls=self_signed(tmp_path)) as url:
        report = sync(kiosk, url)
    assert report.problem is not None and report.problem.kind is SyncFailure.TLS
    said = "与中心的加密连接失败 / TLS with the hub failed: self-signed certificate"
    assert report.error == f"{said} ({url.removeprefix('https://')})"


def test_the_sync_command_says_why(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[store]\npath = "kiosk.db"\n[codes]\nissuers = ["timebank-hub"]\n[machine]\nkind = "simulated"\n'
        f'[hub]\nurl = "http://127.0.0.1:{port}"\ntoken = "tok-0123456789abcdef"\n',
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "sync", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert json.loads(out.stdout) == {
        "ok": False,
        "pushed": 0,
        "pulled": 0,
        "error": f"中心无法连接 / hub unreachable: connection refused (127.0.0.1:{port})",
        "problem": "unreachable",
    }
    assert "tok-0123456789abcdef" not in out.stdout + out.stderr


def test_the_technician_screen_shows_the_last_failure_until_a_good_sync(
    hub_server: tuple[Hub, str], kiosk: Parts
) -> None:
    hub, url = hub_server
    sync(kiosk, url)  # a wrong token
    overview = kiosk.service.tech_overview()
    assert overview.sync_problem is not None and overview.sync_problem.kind is SyncFailure.TOKEN
    args = (overview.last_sync, overview.queued_events, True, False)
    zh, en = sync_line(*args, "zh", overview.sync_problem), sync_line(*args, "en", overview.sync_problem)
    assert zh.splitlines()[1].startswith("中心拒绝了本机的令牌：HTTP 401")
    assert en.splitlines()[1].startswith("hub refused this kiosk's token: HTTP 401")
    assert sync(kiosk, url, hub.add_kiosk("驿站-1")["token"]).ok
    overview = kiosk.service.tech_overview()
    assert overview.sync_problem is None and overview.last_sync is not None
