"""systemd's notify protocol against a fake ``NOTIFY_SOCKET``: READY once the kiosk is up,
watchdog pings from the GUI thread's event loop, and none while that thread is stuck."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import systemd
from kiosk.app import announce_ready
from tests.helpers import make_app


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.setblocking(False)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", "200000")  # WatchdogSec=0.2: a ping every 0.1 s
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        yield sock


def drain(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_then_pings_from_the_gui_loop_and_none_while_it_hangs(
    qtbot: Any, tmp_path: Path, notify_socket: socket.socket
) -> None:
    app, _, _ = make_app(tmp_path)
    try:
        app.window.show()
        announce_ready(app)
        seen: list[str] = []

        def pinged_thrice() -> bool:
            seen.extend(drain(notify_socket))
            return seen.count("WATCHDOG=1") >= 3

        qtbot.waitUntil(pinged_thrice, timeout=5000)
        assert seen[0] == "READY=1" and seen.count("READY=1") == 1

        drain(notify_socket)
        time.sleep(0.6)  # the GUI thread hangs: six watchdog intervals without its event loop
        assert drain(notify_socket) == []

        qtbot.waitUntil(lambda: "WATCHDOG=1" in drain(notify_socket), timeout=5000)  # and it recovers
    finally:
        app.close()
    assert "STOPPING=1" in drain(notify_socket)


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False
    assert systemd.watchdog_interval_s({}) is None


def test_an_abstract_socket_and_whose_watchdog_it_is() -> None:
    name = f"kiosk-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert systemd.notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1"
    assert systemd.watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    import os

    assert systemd.watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    # started by the kiosk compositor, the service's main process
    compositor = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getppid())}
    assert systemd.watchdog_interval_s(compositor) == 15.0
