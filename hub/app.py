"""The hub's HTTP API (FastAPI; OpenAPI at /openapi.json, Swagger UI at /docs).

It serves the trust list to anyone, a fresh ``app`` code and a balance to the volunteer
app's server (its own token, ``kiosk-hub app add``: the volunteer signs in there), and
the kiosks' sync (push events, pull changes), each kiosk with its own token. In front of
FastAPI, the guard (``hub/guard.py``) checks the token before a byte of the body is read,
caps the body and limits each kiosk's pushes; the routes' dependencies only read the
client it found.

``/docs`` works on a network with no way out (a street office's LAN): Swagger UI's
script, style sheet and icon are served from the package (``hub/static/swagger-ui``,
vendored from npm's ``swagger-ui-dist``, its licence beside them), never from a CDN;
ReDoc, which would need one, is off.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from protocol.codes import CodeKind
from protocol.sync import ID_PATTERN, PullPage, PushReply, PushRequest, VolunteerId

from . import errors, sync
from .guard import CLIENT, Client, Guard
from .ingest import EventLimits
from .kek import KekError, find_kek, looked_in
from .service import Hub, UnknownVolunteer
from .settings import Limits, Settings

PROTECTED = (
    ("/v1/sync/", "kiosk"),
    ("/v1/catalogue/", "kiosk"),
    ("/v1/codes", "app"),
    ("/v1/volunteers/", "app"),
    ("/v1/vouchers/", "partner"),
)
"""Path prefixes and the role of the token they need (everything else is public)."""
RATE_LIMITED = (("POST", "/v1/sync/push"),)
BEARER = HTTPBearer(auto_error=False)
"""The token, as OpenAPI documents it (the guard checks it)."""
STATIC = FilePath(__file__).resolve().parent / "static"
SWAGGER_UI = "/static/swagger-ui"
"""Where Swagger UI's files are served from (``hub/static/swagger-ui``)."""
TITLE = "时间银行 hub"


class CodeRequest(BaseModel):
    volunteer_id: VolunteerId


class CodeReply(BaseModel):
    code: str


class VoucherRedeem(BaseModel):
    """A partner's check: the voucher's code as its QR holds it."""

    model_config = ConfigDict(extra="forbid")
    code: Annotated[StrictStr, Field(min_length=1, max_length=2048)]


class VoucherAnswer(BaseModel):
    """Accepted, or why not (``reason``: forged, expired, not_a_voucher, already_used)."""

    accepted: bool
    detail: str
    reason: str | None = None
    voucher_id: str | None = None
    holder: str | None = None
    item: str | None = None
    value: int | None = None
    expires: str | None = None
    used_at: str | None = None
    used_by: str | None = None


class Problem(BaseModel):
    """Every refusal but a malformed request (422, FastAPI's list of errors): one sentence."""

    detail: str


REFUSALS = {
    400: "the body could not be read (not UTF-8 JSON)",
    401: "no token, or not a token of the client this route serves",
    404: "no such volunteer (a balance) or picture (the catalogue)",
    409: "the cursor is past the hub's last sequence",
    413: "the body is larger than the hub accepts (HUB_MAX_BODY_BYTES)",
    429: "this kiosk pushed too often: try again after Retry-After seconds",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route's refusals, each a :class:`Problem`."""
    return {code: {"model": Problem, "description": REFUSALS[code]} for code in codes}


def api_from_env() -> FastAPI:
    """The API for a worker process of ``kiosk-hub serve --workers N``: settings from the environment.

    The command that started the workers has found (or made) the key-encryption key already,
    and migrated the database. A worker creates no database either: one that does not exist
    or has no hub tables is :class:`hub.db.NoHubDatabase`.
    """
    from .db import connect

    settings = Settings.from_environ()
    kek = find_kek(settings.key_file)
    if kek is None:
        raise KekError(f"the key-encryption key is missing (looked in {looked_in(settings.key_file)})")
    hub = Hub(connect(settings.database_url), kek=kek, limits=EventLimits.from_env())
    return create_api(hub, settings.limits)


def create_api(hub: Hub, limits: Limits | None = None) -> FastAPI:
    hub.ensure_key()
    from .console.alerts import loop_from_env

    alert_loop = loop_from_env(hub)  # a bad HUB_ALERT_* stops the hub here, in one line

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """The alerts' loop runs while the server does (``hub/console/alerts.py``)."""
        if alert_loop is not None:
            alert_loop.start()
        try:
            yield
        finally:
            if alert_loop is not None:
                alert_loop.stop()

    api = FastAPI(title=TITLE, version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan)
    api.add_middleware(
        Guard, hub=hub, limits=limits or Limits(), protected=PROTECTED, rate_limited=RATE_LIMITED
    )
    api.add_exception_handler(RequestValidationError, errors.unprocessable)

    @api.get("/v1/jwks")
    def jwks() -> dict[str, Any]:
        return hub.jwks()

    def client(role: str) -> Callable[..., Awaitable[str]]:
        async def check(
            request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
        ) -> str:
            found = request.scope.get(CLIENT)
            if not isinstance(found, Client) or found.role != role:  # a route the guard does not cover
                raise HTTPException(401, f"unknown {role}", headers={"WWW-Authenticate": "Bearer"})
            return found.id

        return check

    kiosk_id = client("kiosk")
    app_client = client("app")
    partner_id = client("partner")

    @api.post("/v1/codes", response_model=CodeReply, responses=refusals(400, 401, 404, 413))
    def new_code(body: CodeRequest, app: str = Depends(app_client)) -> CodeReply:
        """A fresh ``app`` code for a volunteer the app's server has signed in (60 s)."""
        try:
            return CodeReply(code=hub.issue_code(body.volunteer_id, CodeKind.APP))
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {body.volunteer_id}") from exc

    @api.get("/v1/volunteers/{volunteer_id}/balance", responses=refusals(401, 404))
    def balance(
        volunteer_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)],
        app: str = Depends(app_client),
    ) -> dict[str, Any]:
        try:
            return hub.balance(volunteer_id)
        except UnknownVolunteer as exc:
            raise HTTPException(404, f"no volunteer {volunteer_id}") from exc

    @api.post("/v1/sync/push", response_model=PushReply, responses=refusals(400, 401, 413, 429))
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
        responses=refusals(401, 409),
    )
    def pull(
        cursor: int = Query(0, ge=0, le=2**63 - 1),
        limit: int = 5000,
        pins_cursor: int | None = Query(None, ge=0, le=2**63 - 1),
        honour_stamp: str | None = Query(None, max_length=32),
        kiosk: str = Depends(kiosk_id),
    ) -> Response:
        """Volunteers changed after ``cursor`` (rows ``[id, name, balance]``), trust list, technicians,
        and the card PINs set or cleared from ``pins_cursor`` (else ``cursor``) to the page's cursor."""
        try:
            page = sync.pull(
                hub,
                cursor,
                max(1, min(limit, 50_000)),
                kiosk_id=kiosk,
                pins_cursor=pins_cursor,
                honour_stamp=honour_stamp,
            )
        except sync.CursorAhead as exc:
            raise HTTPException(409, str(exc)) from exc
        return Response(page.model_dump_json(), media_type="application/json")

    @api.get(
        "/v1/catalogue/pictures/{sha256}",
        responses={200: {"content": {"image/png": {}}}, **refusals(401, 404)},
        response_class=Response,
    )
    def catalogue_picture(
        sha256: str = Path(pattern=r"^[0-9a-f]{64}$"), kiosk: str = Depends(kiosk_id)
    ) -> Response:
        """An item's picture, by the SHA-256 its catalogue entry names (a PNG; never changes)."""
        from .console.catalogue import picture

        data = picture(hub, sha256)
        if data is None:
            raise HTTPException(404, f"no picture {sha256}")
        return Response(
            data, media_type="image/png", headers={"Cache-Control": "private, max-age=31536000, immutable"}
        )

    @api.post(
        "/v1/vouchers/redeem",
        response_model=VoucherAnswer,
        responses={409: {"model": VoucherAnswer}, 422: {"model": VoucherAnswer}, **refusals(401)},
    )
    def redeem_voucher(body: VoucherRedeem, partner: str = Depends(partner_id)) -> Response:
        """Check a voucher at a partner's desk: 200 accepted the first time; 409 already used
        (where and when); 422 forged, expired or not a voucher (``reason`` says which)."""
        from .vouchers import VoucherRefused, check

        answer = check(hub, body.code, partner)
        status = 200 if answer.accepted else 409 if answer.reason is VoucherRefused.ALREADY_USED else 422
        return Response(
            json.dumps(answer.as_json(), ensure_ascii=False), status, media_type="application/json"
        )

    from .console.web import install as install_console

    install_console(api, hub)

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    serve_docs(api)
    return api


def serve_docs(api: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the package's own copy: nothing is fetched from the internet."""
    api.mount("/static", StaticFiles(directory=STATIC), name="static")

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")  # behind a proxy under a prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{TITLE} — API",
            swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{root}{SWAGGER_UI}/favicon-32x32.png",
        )
