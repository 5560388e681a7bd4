"""The hub's HTTP API (FastAPI; OpenAPI at /docs and /openapi.json).

It serves the trust list to anyone, a fresh ``app`` code and a balance to the volunteer
app's server (its own token, ``kiosk-hub app add``: the volunteer signs in there), and
the kiosks' sync (push events, pull changes), each kiosk with its own token.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Response
from pydantic import BaseModel

from kiosk.core.codes import CodeKind

from . import sync
from .service import Hub, UnknownVolunteer


class PushBody(BaseModel):
    events: list[dict[str, Any]]


class Ack(BaseModel):
    id: str
    seq: int
    duplicate: bool


class PushReply(BaseModel):
    acks: list[Ack]


class CodeRequest(BaseModel):
    volunteer_id: str


class CodeReply(BaseModel):
    code: str


def api_from_env() -> FastAPI:
    """The API for a worker process of ``kiosk-hub serve --workers N`` (database from the environment)."""
    from .db import open_engine

    return create_api(Hub(open_engine(os.environ["HUB_DATABASE_URL"])))


def create_api(hub: Hub) -> FastAPI:
    hub.ensure_key()
    api = FastAPI(title="时间银行 hub", version="0.1.0")

    @api.get("/v1/jwks")
    def jwks() -> dict[str, Any]:
        return hub.jwks()

    def client(role: str) -> Callable[[str], str]:
        def check(authorization: str = Header(default="")) -> str:
            scheme, _, token = authorization.partition(" ")
            found = hub.client_for_token(token, role) if scheme.lower() == "bearer" and token else None
            if found is None:
                raise HTTPException(401, f"unknown {role}", headers={"WWW-Authenticate": "Bearer"})
            return found

        return check

    kiosk_id = client("kiosk")
    app_client = client("app")

    @api.post("/v1/codes", response_model=CodeReply)
    def new_code(body: CodeRequest, app: str = Depends(app_client)) -> CodeReply:
        """A fresh ``app`` code for a volunteer the app's server has signed in (60 s)."""
        try:
            return CodeReply(code=hub.issue_code(body.volunteer_id, CodeKind.APP))
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {body.volunteer_id}") from exc

    @api.get("/v1/volunteers/{volunteer_id}/balance")
    def balance(volunteer_id: str, app: str = Depends(app_client)) -> dict[str, Any]:
        try:
            return hub.balance(volunteer_id)
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {volunteer_id}") from exc

    @api.post("/v1/sync/push", response_model=PushReply)
    def push(body: PushBody, kiosk: str = Depends(kiosk_id)) -> Response:
        if len(body.events) > 5000:
            raise HTTPException(413, "at most 5000 events a batch")
        try:
            events = [sync.Event.from_json(e) for e in body.events]
        except sync.BadEvent as exc:
            raise HTTPException(422, str(exc)) from exc
        # plain JSON of plain values: no need for FastAPI's per-value encoder on 500 acks
        return Response(json.dumps({"acks": sync.push(hub, kiosk, events)}), media_type="application/json")

    @api.get("/v1/sync/pull")
    def pull(cursor: int = 0, limit: int = 5000, kiosk: str = Depends(kiosk_id)) -> dict[str, Any]:
        return sync.pull(hub, max(0, cursor), max(1, min(limit, 50_000)))

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api
