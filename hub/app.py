"""The hub's HTTP API (FastAPI; OpenAPI at /docs and /openapi.json).

It serves the trust list to anyone, a fresh ``app`` code and a balance to the volunteer
app's server (its own token, ``kiosk-hub app add``: the volunteer signs in there), and
the kiosks' sync (push events, pull changes), each kiosk with its own token.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from protocol.codes import CodeKind
from protocol.sync import ID_PATTERN, PullPage, PushReply, PushRequest, VolunteerId

from . import errors, sync
from .ingest import Limits
from .service import Hub, UnknownVolunteer


class CodeRequest(BaseModel):
    volunteer_id: VolunteerId


class CodeReply(BaseModel):
    code: str


def api_from_env() -> FastAPI:
    """The API for a worker process of ``kiosk-hub serve --workers N`` (database from the environment)."""
    from .db import open_engine

    return create_api(Hub(open_engine(os.environ["HUB_DATABASE_URL"]), limits=Limits.from_env()))


def create_api(hub: Hub) -> FastAPI:
    hub.ensure_key()
    api = FastAPI(title="时间银行 hub", version="0.1.0")
    api.add_exception_handler(RequestValidationError, errors.unprocessable)

    @api.get("/v1/jwks")
    def jwks() -> dict[str, Any]:
        return hub.jwks()

    def client(role: str) -> Callable[[str], Awaitable[str]]:
        async def check(authorization: str = Header(default="")) -> str:
            # a token seen in the last minute is answered on the event loop; only a new one
            # costs a worker thread (and a database read)
            scheme, _, token = authorization.partition(" ")
            found = None
            if scheme.lower() == "bearer" and token:
                found = hub.remembered_client(token, role) or await run_in_threadpool(
                    hub.client_for_token, token, role
                )
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
    def balance(
        volunteer_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)],
        app: str = Depends(app_client),
    ) -> dict[str, Any]:
        try:
            return hub.balance(volunteer_id)
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {volunteer_id}") from exc

    @api.post("/v1/sync/push", response_model=PushReply)
    def push(body: PushRequest, kiosk: str = Depends(kiosk_id)) -> Response:
        """Apply each event once; one acknowledgement per event, in order (``docs/sync.md``).

        The body is validated whole before anything is applied: a malformed event is a
        422 whose ``detail`` names it (``["body", "events", i, kind, field]``).
        """
        reply = PushReply(acks=sync.push(hub, kiosk, body.events))
        # the model serialises itself (pydantic-core): no need for FastAPI's per-value encoder
        return Response(reply.model_dump_json(exclude_none=True), media_type="application/json")

    @api.get(
        "/v1/sync/pull",
        response_model=PullPage,
        responses={409: {"description": "the cursor is past the hub's last sequence"}},
    )
    def pull(
        cursor: int = Query(0, ge=0, le=2**63 - 1),
        limit: int = 5000,
        kiosk: str = Depends(kiosk_id),
    ) -> Response:
        """Volunteers changed after ``cursor`` (rows ``[id, name, balance]``), trust list, technicians."""
        try:
            page = sync.pull(hub, cursor, max(1, min(limit, 50_000)), kiosk_id=kiosk)
        except sync.CursorAhead as exc:
            raise HTTPException(409, str(exc)) from exc
        return Response(page.model_dump_json(), media_type="application/json")

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api
