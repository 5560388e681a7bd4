"""Test configuration: offscreen Qt, the kiosk's fixtures, and a thread-leak check."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.logs import QUIET, Redact
from tests.helpers import KioskWorld, OfflinePage, make_world, offline_browser_page


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--port", default=None, help="serial port URL of a real lane board (hardware tests)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--port"):
        return
    skip = pytest.mark.skip(reason="no --port given: hardware tests need a real lane board")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (a worker or reader not shut down)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture(autouse=True)
def hub_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hub's key-encryption key lives in the test's own folder (a hub run as a command or a
    process makes it there on first use), never in the user's configuration directory."""
    path = tmp_path / "hub-kek"
    monkeypatch.setenv("HUB_KEY_FILE", str(path))
    monkeypatch.delenv("HUB_KEK", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return path


@pytest.fixture(autouse=True)
def log_files_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Log files go to the test's own folder (commands run in a test set up logging, as they
    do in the field), and a command run in the test's process leaves the logging it set up
    (``protocol.logs``) behind it: the handlers it added are closed, the levels put back."""
    folder = tmp_path / "logs"
    monkeypatch.setenv("TIMEBANK_LOG_DIR", str(folder))
    for variable in ("JOURNAL_STREAM", "INVOCATION_ID"):  # a test run from a systemd unit
        monkeypatch.delenv(variable, raising=False)
    root = logging.getLogger()
    level = root.level
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", *QUIET)
    named = {name: logging.getLogger(name).level for name in names}
    yield folder
    for handler in root.handlers[:]:
        if any(isinstance(f, Redact) for f in handler.filters):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, was in named.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[KioskWorld]:
    """A seeded demo store on a real SQLite file, a fast simulated cabinet, no Qt."""
    w = make_world(tmp_path)
    yield w
    w.parts.close()


@pytest.fixture
def offline_page() -> Iterator[OfflinePage]:
    """A headless Chromium page (Debian's, driven by Playwright) that reaches only 127.0.0.1;
    a test fails, rather than skips, when Chromium is not installed."""
    with offline_browser_page() as page:
        yield page
