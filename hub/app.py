"""The hub's HTTP API (FastAPI; OpenAPI at /docs and /openapi.json).

This slice serves what the volunteer app and the kiosks read: the trust list, a fresh
``app`` code for a volunteer, and a volunteer's balance. Kiosk sync (push events,
pull changes) authenticates each kiosk by its token and comes next.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from kiosk.core.codes import CodeKind

from .service import Hub, UnknownVolunteer


class CodeRequest(BaseModel):
    volunteer_id: str


class CodeReply(BaseModel):
    code: str


def create_api(hub: Hub) -> FastAPI:
    api = FastAPI(title="时间银行 hub", version="0.1.0")

    @api.get("/v1/jwks")
    def jwks() -> dict[str, Any]:
        return hub.jwks()

    @api.post("/v1/codes", response_model=CodeReply)
    def new_code(body: CodeRequest) -> CodeReply:
        try:
            return CodeReply(code=hub.issue_code(body.volunteer_id, CodeKind.APP))
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {body.volunteer_id}") from exc

    @api.get("/v1/volunteers/{volunteer_id}/balance")
    def balance(volunteer_id: str) -> dict[str, Any]:
        try:
            return hub.balance(volunteer_id)
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {volunteer_id}") from exc

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api
