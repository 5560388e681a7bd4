"""The guard in front of the API: the token before the body, a capped body, a limit on each kiosk's pushes.

A counting layer between the server and the API records how many body bytes the API
asked the server for: a request refused before its body is read shows 0, a body past
the cap no more than the cap and one chunk. The streaming tests use a real uvicorn
server on loopback and a raw socket, so nothing in between buffers the body.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.app import create_api
from hub.guard import TokenBucket
from hub.service import Hub
from hub.settings import MAX_BODY_BYTES, Limits
from protocol.sync import INT32_MAX, MAX_EVENTS, PROTOCOL_VERSION, PushRequest
from tests.helpers import serving

HOURS = b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,3,a,2026-11-01\n"
CAP = 64 * 1024


@dataclass
class Counting:
    """An ASGI layer that counts the request body bytes the app behind it received."""

    app: Any
    received: list[int] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.received.append(0)
        index = len(self.received) - 1

        async def counted() -> Any:
            message = await receive()
            self.received[index] += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def redemption(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": "redemption",
        "volunteer_id": "V1",
        "amount": 1,
        "at": 1,
        **fields,
    }


@pytest.fixture
def kiosk(hub: Hub) -> dict[str, str]:
    hub.import_hours(HOURS)
    added = hub.add_kiosk("驿站-1")
    return {"Authorization": f"Bearer {added['token']}"}


def client_for(hub: Hub, limits: Limits) -> tuple[TestClient, Counting]:
    counting = Counting(create_api(hub, limits))
    return TestClient(counting), counting


def test_no_token_is_refused_before_a_byte_of_the_body_is_read(hub: Hub, kiosk: dict[str, str]) -> None:
    client, counting = client_for(hub, Limits(max_body_bytes=CAP))
    body = b"x" * (CAP // 2)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        reply = client.post("/v1/sync/push", content=body, headers=headers)
        assert reply.status_code == 401 and reply.json() == {"detail": "unknown kiosk"}
        assert reply.headers["www-authenticate"] == "Bearer"
    app = {"Authorization": f"Bearer {hub.add_kiosk('志愿者小程序', role='app')['token']}"}
    assert client.post("/v1/sync/push", content=body, headers=app).status_code == 401  # another role's token
    assert counting.received == [0, 0, 0, 0]
    reply = client.post(
        "/v1/sync/push", json={"protocol": PROTOCOL_VERSION, "events": [redemption()]}, headers=kiosk
    )
    assert reply.status_code == 200 and counting.received[-1] > 0


def test_a_body_past_the_cap_is_a_413_by_its_length_or_as_it_streams(hub: Hub, kiosk: dict[str, str]) -> None:
    client, counting = client_for(hub, Limits(max_body_bytes=CAP))
    declared = client.post("/v1/sync/push", content=b"x" * (CAP + 1), headers=kiosk)
    assert declared.status_code == 413 and "larger than 65536 bytes" in declared.json()["detail"]
    assert declared.headers["connection"] == "close"  # the rest of the body is never read
    assert counting.received == [0]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(64):
            yield b"x" * 4096

    streamed = client.post(
        "/v1/sync/push", content=chunks(), headers=kiosk
    )  # (the test client sends it whole)
    assert streamed.status_code == 413 and streamed.json() == {
        "detail": "the body is larger than 65536 bytes"
    }
    assert hub.balance("V1")["balance"] == 30


def test_a_kiosks_largest_push_fits_under_the_default_cap_and_goes_in(
    hub: Hub, kiosk: dict[str, str]
) -> None:
    """5,000 redemptions with every field at its longest, as the kiosk encodes them."""
    longest = {
        "at": 2**63 - 1,
        "volunteer_id": "V" * 64,
        "amount": INT32_MAX,
        "item_id": INT32_MAX,
        "item_name": "🧻" * 100,  # 4 bytes each in UTF-8
        "unit_price": INT32_MAX,
        "quantity": INT32_MAX,
        "lane": INT32_MAX,
        "kiosk_id": "k" * 36,
    }
    push = PushRequest.model_validate(
        {"protocol": PROTOCOL_VERSION, "events": [redemption(**longest) for _ in range(MAX_EVENTS)]}
    )
    wire = push.model_dump_json(exclude_unset=True).encode()  # as kiosk.sync.HubClient.push sends it
    assert 3_500_000 < len(wire) < MAX_BODY_BYTES
    client, _ = client_for(hub, Limits())
    reply = client.post("/v1/sync/push", content=wire, headers={**kiosk, "Content-Type": "application/json"})
    assert reply.status_code == 200, reply.text[:300]
    assert len(reply.json()["acks"]) == MAX_EVENTS


def test_each_kiosks_pushes_are_limited_with_a_retry_after(hub: Hub, kiosk: dict[str, str]) -> None:
    client, counting = client_for(hub, Limits(push_per_minute=30, push_burst=3))
    other = {"Authorization": f"Bearer {hub.add_kiosk('驿站-2')['token']}"}
    push = {"protocol": PROTOCOL_VERSION, "events": [redemption()]}
    assert [client.post("/v1/sync/push", json=push, headers=kiosk).status_code for _ in range(3)] == [200] * 3
    limited = client.post("/v1/sync/push", json=push, headers=kiosk)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"  # 30 a minute: one every 2 s
    assert "retry after 2 s" in limited.json()["detail"]
    assert counting.received[-1] == 0  # refused before its body was read
    assert client.post("/v1/sync/push", json=push, headers=other).status_code == 200  # a bucket per kiosk
    assert client.get("/v1/sync/pull", headers=kiosk).status_code == 200  # pulls are not limited


def test_a_token_bucket_lets_a_burst_through_then_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=120, burst=4, clock=lambda: now[0])
    assert [bucket.take("k") for _ in range(4)] == [0.0] * 4
    assert bucket.take("k") == pytest.approx(0.5)
    assert bucket.take("other") == 0.0
    now[0] += 0.5
    assert bucket.take("k") == 0.0
    now[0] += 60
    assert [bucket.take("k") for _ in range(5)] == [0.0] * 4 + [
        pytest.approx(0.5)
    ]  # never more than the burst


def test_openapi_still_documents_the_token(hub: Hub) -> None:
    schema = TestClient(create_api(hub)).get("/openapi.json").json()
    assert schema["paths"]["/v1/sync/push"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/v1/jwks"]["get"]


# --- a real server ----------------------------------------------------------------------


@pytest.fixture
def served(hub: Hub) -> Iterator[tuple[Counting, int, dict[str, str]]]:
    hub.import_hours(HOURS)
    token = hub.add_kiosk("驿站-1")["token"]
    counting = Counting(create_api(hub, Limits(max_body_bytes=CAP)))
    with serving(counting) as base:
        yield counting, int(base.rsplit(":", 1)[1]), {"Authorization": f"Bearer {token}"}


def send_chunked(port: int, headers: dict[str, str], total: int) -> tuple[bytes, int, float]:
    """POST a chunked body of up to ``total`` bytes until the server answers: (answer, sent, seconds)."""
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            f"POST /v1/sync/push HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n{head}"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        sock.settimeout(0.2)
        try:
            while sent < total:
                try:
                    answer = sock.recv(65536, socket.MSG_PEEK)
                    if answer:
                        break
                except TimeoutError:
                    pass
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (TimeoutError, ConnectionError):
            pass  # the server stopped reading, or closed: its answer is waiting
        sock.settimeout(10)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                part = sock.recv(65536)
                if not part:
                    break
                answer += part
        except ConnectionError:
            pass
    return answer, sent, time.monotonic() - started


def test_a_served_hub_refuses_a_40_mb_body_without_a_token_and_reads_none_of_it(
    served: tuple[Counting, int, dict[str, str]],
) -> None:
    counting, port, _ = served
    answer, sent, seconds = send_chunked(port, {}, 40 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 401 ") and b'"unknown kiosk"' in answer, answer[:200]
    assert counting.received == [0]
    assert sent < 40 * 1024 * 1024 and seconds < 5


def test_a_served_hub_stops_reading_a_streamed_body_past_the_cap(
    served: tuple[Counting, int, dict[str, str]], hub: Hub
) -> None:
    counting, port, auth = served
    answer, sent, seconds = send_chunked(port, auth, 40 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"detail": "the body is larger than 65536 bytes"}
    (received,) = counting.received
    assert CAP < received <= CAP + 2 * 65536 + 64  # the cap, and what the server had buffered
    assert sent < 40 * 1024 * 1024 and seconds < 5
    assert hub.balance("V1")["balance"] == 30
