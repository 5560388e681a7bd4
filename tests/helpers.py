"""Shared fakes and builders for the tests (one place, as qutebrowser's stubs)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.machine import DispenseResult, MachineStatus, Outcome
from drivers.simulated import SimulatedMachine
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import Config, demo_config
from kiosk.demo import DEMO_PANEL, DemoCode, DemoCodes, load_or_create_key, seed
from protocol.sync import PROTOCOL_VERSION, Ack, PullPage, PushRequest

if TYPE_CHECKING:
    from hub.service import Hub

VOUCHER_NOW = 1_790_000_000


class FakeClock:
    """A clock the test moves by hand (wall time for the store, monotonic for the UI)."""

    def __init__(self, start: float = VOUCHER_NOW) -> None:
        self.t = float(start)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class WallClock(FakeClock):
    """The wall clock (plus what a test advances it by): for a kiosk that checks codes a hub
    in another process signs with the wall clock, however slowly the test runs."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def __call__(self) -> float:
        import time

        return time.time() + self.t


@dataclass
class ScriptedMachine:
    """A machine that answers each dispense from a script and counts the calls."""

    outcomes: list[DispenseResult] = field(default_factory=list)
    alive: bool = True
    calls: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self) -> MachineStatus:
        return MachineStatus(alive=self.alive)

    def resolve(self, lane: int, sn: int | None) -> DispenseResult:
        return DispenseResult(Outcome.UNKNOWN, lane, sn=sn)

    def dispense(
        self, lane: int, *, sn: int | None = None, on_progress: Callable[[float], None] | None = None
    ) -> DispenseResult:
        with self.lock:
            self.calls.append(lane)
            result = self.outcomes.pop(0) if self.outcomes else DispenseResult(Outcome.DISPENSED, lane)
        return DispenseResult(result.outcome, lane, result.flags, result.motor_ms, result.sn)

    def close(self) -> None:
        pass


@dataclass
class KioskWorld:
    config: Config
    parts: Parts
    codes: DemoCodes
    clock: FakeClock

    def code(self, make: str, subject: str = "V0001") -> str:
        return self.codes.make(DemoCode("", make, subject), now=self.clock())

    @property
    def sim(self) -> SimulatedMachine:
        assert self.parts.simulator is not None
        return self.parts.simulator


def demo_code(name: str) -> DemoCode:
    return next(c for c in DEMO_PANEL if c.make == name)


def make_world(tmp_path: Path, machine: object | None = None) -> KioskWorld:
    key = load_or_create_key(tmp_path / "key.pem")
    clock = FakeClock()
    config = demo_config(tmp_path, turn_s=0.0)
    parts = bootstrap(config, machine=machine, clock=clock, seed=lambda repo: seed(repo, key))  # type: ignore[arg-type]
    return KioskWorld(config, parts, DemoCodes(key), clock)


def make_app(  # type: ignore[no-untyped-def]
    tmp_path: Path, machine: object | None = None, clock: FakeClock | None = None, **config_changes
):
    """The whole GUI from the composition root, on a seeded demo store, cabinet at full speed."""
    from kiosk.app import create_app

    key = load_or_create_key(tmp_path / "key.pem")
    clock = clock or FakeClock()
    config = dataclasses.replace(demo_config(tmp_path, turn_s=0.0), **config_changes)
    codes = DemoCodes(key)
    app = create_app(
        config,
        machine=machine,  # type: ignore[arg-type]
        clock=clock,
        codes=codes,
        seed_store=lambda repo: seed(repo, key),
    )
    return app, codes, clock


def free_port() -> int:
    """A loopback TCP port nobody listens on (for servers the tests start, or a hub that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` and its key, as PEM files in ``folder`` (a TLS
    server no kiosk trusts)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "tls-cert.pem", folder / "tls-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@contextmanager
def serving(app: Any, tls: tuple[Path, Path] | None = None, **options: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn on loopback, on a thread: yields its base URL once it listens.

    ``tls``: (certificate, key) files, to serve HTTPS; ``options`` go to ``uvicorn.Config``.
    """
    import time

    import uvicorn

    port = free_port()
    options.setdefault("log_level", "warning")
    if tls is not None:
        options.update(ssl_certfile=str(tls[0]), ssl_keyfile=str(tls[1]))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, name="hub-server")
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.02)
        assert server.started, "the server did not start"
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def hub_subprocess(db_url: str, workers: int = 1, options: tuple[str, ...] = ()) -> Iterator[str]:
    """``kiosk-hub serve [options]`` in its own process(es) on ``db_url``: its base URL once healthy."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    args = ["serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning", *options]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--db", db_url, *args], cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the hub did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``apt-get install chromium``): the browser tests drive it with Playwright.
Nothing is downloaded at test time (never ``playwright install``)."""


@dataclass
class OfflinePage:
    """A browser page that reaches only this machine (127.0.0.1): every other request is
    aborted and listed in ``refused``, as on a street office's network with no way out."""

    page: Any
    refused: list[str]


@contextmanager
def offline_browser_page() -> Iterator[OfflinePage]:
    """A fresh Chromium (headless, from :data:`CHROMIUM`) with one :class:`OfflinePage`."""
    import pytest

    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium "
            "(the tests never download a browser)",
            pytrace=False,
        )
    from urllib.parse import urlsplit

    from playwright.sync_api import Route, sync_playwright

    refused: list[str] = []

    def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context()
            context.route("**/*", only_this_machine)
            yield OfflinePage(context.new_page(), refused)
            context.close()
        finally:
            browser.close()


class InProcessHub:
    """A kiosk's hub client that calls the hub's sync functions directly (the HTTP layer has
    its own tests): a push is validated as the API validates it, a pull page goes through
    its JSON as over HTTP."""

    def __init__(self, hub: Hub, kiosk_id: str) -> None:
        self.hub, self.kiosk_id = hub, kiosk_id

    def push(self, events: list[dict[str, Any]]) -> list[Ack]:
        from hub import sync

        request = PushRequest.model_validate({"protocol": PROTOCOL_VERSION, "events": events})
        return sync.push(self.hub, self.kiosk_id, request.events)

    def pull(
        self, cursor: int, limit: int, pins_cursor: int | None = None, honour_stamp: str | None = None
    ) -> PullPage:
        from hub import sync

        page = sync.pull(
            self.hub,
            cursor,
            limit,
            kiosk_id=self.kiosk_id,
            pins_cursor=pins_cursor,
            honour_stamp=honour_stamp,
        )
        return PullPage.model_validate_json(page.model_dump_json())
