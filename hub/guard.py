"""The hub's front door: a plain ASGI middleware that checks before anything is read.

FastAPI reads and parses a request's body before it runs the dependencies that check
its token, so a 40 MB body with no token used to be parsed whole before its 401. The
guard sits in front of FastAPI and, for each request:

1. on an authenticated path (``protected``: path prefix → the role it needs), finds the
   client the ``Bearer`` token names (remembered tokens on the event loop, a new one on a
   worker thread), else answers 401 without reading a byte of the body;
2. on a rate-limited path, takes one push from the client's token bucket, else answers
   429 with ``Retry-After``;
3. answers 413 when ``Content-Length`` says more than ``max_body_bytes``, and otherwise
   counts the body as FastAPI streams it in: the first chunk past the cap ends the
   request with a 413 (FastAPI is told the client left), so no more than the cap and one
   chunk is ever held.

A refusal sent before the body was read closes the connection, so the rest of the
body is not read either. The client found is left in the ASGI scope under
:data:`CLIENT` for the routes' dependencies.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from .service import Hub
from .settings import Limits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CLIENT = "hub.client"
"""Scope key of the authenticated client: a :class:`Client`."""


@dataclass(frozen=True)
class Client:
    id: str
    role: str


class TokenBucket:
    """Per key: ``burst`` requests back to back, refilled at ``per_minute`` a minute."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)

    def take(self, key: str) -> float:
        """0 when the key may go ahead (one token taken), else the seconds until it may."""
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


class Guard:
    def __init__(
        self,
        app: App,
        *,
        hub: Hub,
        limits: Limits,
        protected: Sequence[tuple[str, str]],
        rate_limited: Sequence[tuple[str, str]],
    ) -> None:
        self.app = app
        self.hub = hub
        self.limits = limits
        self.protected = tuple(protected)
        self.rate_limited = set(rate_limited)
        self.pushes = TokenBucket(limits.push_per_minute, limits.push_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        role = next((r for prefix, r in self.protected if path.startswith(prefix)), None)
        if role is not None:
            client = await self._client(headers.get("authorization", ""), role)
            if client is None:
                await _refuse(send, headers, 401, f"unknown {role}", {"www-authenticate": "Bearer"})
                return
            scope[CLIENT] = client
            if (scope["method"], path) in self.rate_limited:
                wait = self.pushes.take(client.id)
                if wait:
                    retry = math.ceil(wait)
                    await _refuse(
                        send,
                        headers,
                        429,
                        f"too many pushes: retry after {retry} s",
                        {"retry-after": str(retry)},
                    )
                    return
        cap = self.limits.max_body_bytes
        length = headers.get("content-length")
        if length is not None and not (length.isdigit() and length.isascii()):
            await _refuse(send, headers, 400, "Content-Length is not a whole number")
            return
        if length is not None and int(length) > cap:
            await _refuse(send, headers, 413, f"the body is larger than {cap} bytes")
            return
        await _Capped(self.app, cap, headers)(scope, receive, send)

    async def _client(self, authorization: str, role: str) -> Client | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        found = self.hub.remembered_client(token, role) or await run_in_threadpool(
            self.hub.client_for_token, token, role
        )
        return None if found is None else Client(found, role)


class _Capped:
    """One request through the app, its body counted as the app reads it."""

    def __init__(self, app: App, cap: int, headers: Mapping[str, str]) -> None:
        self.app, self.cap, self.headers = app, cap, headers
        self.received = 0
        self.exceeded = False
        self.started = False  # the app began its answer
        self.answered = False  # the guard answered instead (413): the app's answer goes nowhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            if self.exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.cap:
                    self.exceeded = True
                    if not self.started:
                        self.answered = True
                        await _refuse(send, self.headers, 413, f"the body is larger than {self.cap} bytes")
                    return {"type": "http.disconnect"}  # the app stops reading
            return message

        async def sending(message: Message) -> None:
            if not self.answered:
                self.started = True
                await send(message)

        await self.app(scope, counted, sending)


async def _refuse(
    send: Send, request: Mapping[str, str], status: int, detail: str, extra: Mapping[str, str] | None = None
) -> None:
    """A JSON ``{"detail": ...}`` answer as FastAPI gives; the connection closes if a body may be unread."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    if request.get("content-length", "0") != "0" or "transfer-encoding" in request:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
