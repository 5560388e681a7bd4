"""Exactly once through a cut-happy network, and a long outage delivered whole.

A fault-injecting TCP proxy sits between the kiosk and the hub (uvicorn on loopback)
and cuts connections: after the request reached the hub (the answer is lost), or half
way through sending it. After 100 cuts every event is applied exactly once. Then
10,000 redemptions queued while the hub is down are delivered when it comes back.
"""

from __future__ import annotations

import dataclasses
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.models import LedgerEntry
from hub.service import Hub
from kiosk.bootstrap import Parts, bootstrap
from kiosk.config import demo_config
from kiosk.store.models import LedgerRow, OutboxRow
from kiosk.sync import HubClient, Syncer
from tests.helpers import free_port

HOURS = b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,24,x,2026-11-01\n"


class CuttingProxy:
    """Forwards loopback TCP to the hub, cutting the next ``cuts`` connections."""

    def __init__(self, upstream_port: int, cuts: int) -> None:
        self.upstream = upstream_port
        self.cuts = cuts
        self.cut_done = 0
        self.rng = random.Random(7)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="cutting-proxy")
        self._thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with client:
                self._one(client)

    def _one(self, client: socket.socket) -> None:
        client.settimeout(5)
        with socket.create_connection(("127.0.0.1", self.upstream), timeout=5) as up:
            request = self._read_request(client)
            cut = self.cut_done < self.cuts
            if cut and self.rng.random() < 0.5:
                up.sendall(request[: max(1, len(request) // 2)])  # half a request: the hub sees garbage
                self.cut_done += 1
                return
            up.sendall(request)
            response = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                response += chunk
                if b"\r\n\r\n" in response and _complete(response):
                    break
            if cut:
                self.cut_done += 1  # the hub applied it; the answer never arrives
                return
            client.sendall(response)

    @staticmethod
    def _read_request(client: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            data += client.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            body += client.recv(65536)
        return head + b"\r\n\r\n" + body

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        self._thread.join(timeout=5)


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Parts]:
    config = dataclasses.replace(demo_config(tmp_path / "kiosk", turn_s=0.0), issuers=("timebank-hub",))
    parts = bootstrap(config)
    yield parts
    parts.close()


AT = 1_790_000_000


def queue_redemptions(parts: Parts, n: int) -> None:
    """``n`` charged redemptions of 1 益币 each, written straight into the store (setup only)."""
    with parts.store.units.writing() as uow:
        s = uow.session
        for i in range(n):
            hold, charge = str(uuid.uuid4()), str(uuid.uuid4())
            for entry_id, kind, ref in ((hold, "hold", None), (charge, "charge", hold)):
                row = LedgerRow(
                    id=entry_id, volunteer_id="V1", kind=kind, amount=1, ref=ref, at=AT + i, day="2026-11-23"
                )
                s.add(row)
            s.add(
                OutboxRow(
                    event_id=str(uuid.uuid4()),
                    entry_id=charge,
                    kind="redemption",
                    volunteer_id="V1",
                    amount=1,
                    at=AT + i,
                )
            )
        uow.commit()


def applied(hub: Hub) -> tuple[int, int]:
    with hub.unit() as s:
        count = s.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redemption")
        )
        distinct = s.scalar(
            select(func.count(func.distinct(LedgerEntry.event_id))).where(LedgerEntry.kind == "redemption")
        )
    return int(count or 0), int(distinct or 0)


def test_a_hundred_cut_connections_apply_every_event_once(
    hub_server: tuple[Hub, str],
    kiosk: Parts,
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS)
    token = hub.add_kiosk("k")["token"]
    port = int(url.rsplit(":", 1)[1])
    proxy = CuttingProxy(port, cuts=100)
    try:
        queue_redemptions(kiosk, 300)
        syncer = Syncer(kiosk.store, HubClient(f"http://127.0.0.1:{proxy.port}", token, timeout_s=5), batch=7)
        deadline = time.monotonic() + 120
        while kiosk.store.queued_events() and time.monotonic() < deadline:
            syncer.run_once()
        assert proxy.cut_done == 100
        assert kiosk.store.queued_events() == 0
        assert applied(hub) == (300, 300)
        assert hub.balance("V1")["balance"] == 240 - 300
    finally:
        proxy.close()


def test_ten_thousand_redemptions_queued_while_the_hub_is_down(
    hub_server: tuple[Hub, str],
    kiosk: Parts,
) -> None:
    hub, url = hub_server
    hub.import_hours(HOURS)
    token = hub.add_kiosk("k")["token"]
    queue_redemptions(kiosk, 10_000)
    down = Syncer(kiosk.store, HubClient(f"http://127.0.0.1:{free_port()}", token, timeout_s=2))
    assert not down.run_once().ok and kiosk.store.queued_events() == 10_000
    report = Syncer(kiosk.store, HubClient(url, token)).run_once()
    assert report.ok and report.pushed == 10_000
    assert kiosk.store.queued_events() == 0
    assert applied(hub) == (10_000, 10_000)
    assert hub.balance("V1") == {"volunteer_id": "V1", "balance": 240 - 10_000, "flagged": True}
