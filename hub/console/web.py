"""The console's pages: server-rendered (Jinja2), Chinese first with an English switch,
every script, style and font served from the package, so nothing leaves the office's LAN.

A page needs a signed-in session (an HttpOnly, SameSite=Strict cookie; the hub keeps only
its hash); without one it redirects to the sign-in page. Every form carries the session's
form token and every POST must come from the console's own origin (CSRF). A kiosk's or the
app's bearer token opens no page: the two kinds of credential never meet.
"""

import datetime as dt
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as FastPath
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask

from ..service import MAX_RATE, RATE, Hub
from . import alerts, rules, store
from . import catalogue as goods
from .reports import as_csv, csv_chunks, csv_export, shown_time, write_sheet, write_xlsx
from .rules import CITY_TZ, SESSION_S, may_change, path
from .words import LANGS, N_, ROLE_NAMES, SOURCE, reason, say

HERE = Path(__file__).resolve().parent
FONTS = HERE.parents[1] / "assets" / "fonts"
COOKIE = "hub_console"
LANG_COOKIE = "hub_console_lang"
SIGNIN_CSRF = "hub_console_signin"
PAGE_ROWS = 100
"""Redemptions listed on the page (the export has them all)."""


class PageProblem(Exception):
    """A request the console refuses: a page with one sentence (from the catalogue)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class SignInNeeded(Exception):
    def __init__(self, back: str) -> None:
        self.back = back


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or SOURCE
    return chosen if chosen in LANGS else SOURCE


def same_origin(request: Request) -> bool:
    """A POST from a page of this console (the browser says where it comes from)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    return urlsplit(origin).netloc == request.headers.get("host", "")


def local_day(text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PageProblem(400, N_("日期应写成 2026-11-01 这样")) from None


def day_start(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), CITY_TZ).timestamp())


def console(hub: Hub, secure_cookie: bool = False) -> APIRouter:
    """The console's routes, mounted beside the API under ``/console``."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["shown_time"] = shown_time
    templates.env.globals["role_names"] = ROLE_NAMES
    templates.env.globals["reason"] = reason
    router = APIRouter(prefix="/console", include_in_schema=False)
    low_default = (
        alerts.AlertRules.from_env().low_stock_at
    )  # the alerts' own (a bad value stops the hub first)

    def render(
        request: Request, name: str, lang: str, who: store.Who | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        def _(msgid: str, **params: Any) -> str:
            return say(msgid, lang, **params)

        response = templates.TemplateResponse(
            request,
            name,
            {"_": _, "lang": lang, "switch": switch_link(request, lang), "who": who, **context},
            status_code=status,
        )
        if request.query_params.get("lang") in LANGS:
            response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict", secure=secure_cookie)
        # pages hold people's names and balances: no cache keeps them after sign-out
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'"
        )
        return response

    def signed_in(request: Request) -> store.Who:
        cookie = request.cookies.get(COOKIE)
        who = store.who(hub, cookie) if cookie else None
        if who is None:
            raise SignInNeeded(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return who

    def changes_allowed(who: store.Who) -> None:
        if not may_change(who.role):
            raise PageProblem(403, N_("只读账号不能修改"))

    def form_checked(request: Request, who: store.Who, token: str) -> None:
        if not (same_origin(request) and secrets.compare_digest(token, who.csrf)):
            raise PageProblem(403, N_("这个表单已过期，请重新打开页面"))

    Who = Annotated[store.Who, Depends(signed_in)]

    @router.get("/signin")
    def signin_page(request: Request, back: str = "/console/fleet") -> HTMLResponse:
        lang = lang_of(request)
        token = secrets.token_urlsafe(24)
        response = render(request, "signin.html", lang, None, token=token, back=safe_back(back), problem=None)
        response.set_cookie(SIGNIN_CSRF, token, httponly=True, samesite="strict", secure=secure_cookie)
        return response

    @router.post("/signin")
    def signin(
        request: Request,
        name: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=200)],
        token: Annotated[str, Form(max_length=64)],
        back: Annotated[str, Form(max_length=500)] = "/console/fleet",
    ) -> Response:
        lang = lang_of(request)
        expected = request.cookies.get(SIGNIN_CSRF, "")
        if not (expected and secrets.compare_digest(token, expected) and same_origin(request)):
            raise PageProblem(403, N_("这个表单已过期，请重新打开页面"))
        try:
            cookie = store.sign_in(hub, name, password)
        except store.SignInRefused as refused:
            if refused.locked_until:
                problem = say(
                    "尝试次数过多，账号已锁定，请于 {t} 后再试",
                    lang,
                    t=shown_time(refused.locked_until, "%H:%M"),
                )
            else:
                problem = say("用户名或密码不正确", lang)
            return render(
                request, "signin.html", lang, None, 401, token=expected, back=safe_back(back), problem=problem
            )
        response = RedirectResponse(safe_back(back), status_code=303)
        response.set_cookie(
            COOKIE, cookie, httponly=True, samesite="strict", secure=secure_cookie, max_age=SESSION_S
        )
        response.delete_cookie(SIGNIN_CSRF)
        return response

    @router.post("/signout")
    def signout(request: Request, who: Who, token: Annotated[str, Form(max_length=64)]) -> Response:
        form_checked(request, who, token)
        store.sign_out(hub, request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/console/signin", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @router.get("")
    @router.get("/")
    def home(who: Who) -> Response:
        return RedirectResponse("/console/fleet", status_code=303)

    @router.get("/fleet")
    def fleet(request: Request, who: Who) -> HTMLResponse:
        lang = lang_of(request)
        rows = store.fleet(hub, who.scope, low_default)
        return render(request, "fleet.html", lang, who, rows=rows, page="fleet", now=int(hub.clock()))

    Text = Annotated[str | None, Query(max_length=100)]

    def redemption_query(
        who: Who,
        start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
        kiosk: Text = None,
        item: Text = None,
        volunteer: Text = None,
    ) -> Chosen:
        """The redemptions a page or an export asks for, within what the person sees."""
        today = dt.datetime.fromtimestamp(hub.clock(), CITY_TZ).date()
        first = local_day(start, today.replace(day=1))
        last = local_day(end, today)
        if last < first:
            raise PageProblem(400, N_("结束日期早于开始日期"))
        kiosks = store.kiosks_in(hub, who.scope)
        if kiosk and kiosk not in kiosks:
            raise PageProblem(404, N_("没有这台自助机，或您无权查看"))
        f = store.RedemptionFilter(
            start=day_start(first),
            end=day_start(last + dt.timedelta(days=1)),
            kiosk_ids=frozenset([kiosk]) if kiosk else None,
            item=(item or "").strip() or None,
            volunteer_id=(volunteer or "").strip() or None,
        )
        shown = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "kiosk": kiosk or "",
            "item": f.item or "",
            "volunteer": f.volunteer_id or "",
        }
        return Chosen(f, kiosks, kiosks if who.scope.orgs is not None else None, shown)

    Asked = Annotated[Chosen, Depends(redemption_query)]

    @router.get("/redemptions")
    def redemptions(request: Request, who: Who, asked: Asked) -> HTMLResponse:
        totals = store.redemption_totals(hub, asked.filter, asked.scoped)
        rows = list(store.redemption_rows(hub, asked.filter, asked.scoped, limit=PAGE_ROWS))
        query = urlencode({k: v for k, v in asked.shown.items() if v})
        return render(
            request,
            "redemptions.html",
            lang_of(request),
            who,
            page="redemptions",
            kiosks=asked.kiosks,
            shown=asked.shown,
            totals=totals,
            rows=rows,
            chart=day_chart(totals["by_day"], *shown_days(asked.shown)),
            export=f"/console/redemptions.csv?{query}",
        )

    @router.get("/redemptions.csv")
    def redemptions_csv(request: Request, asked: Asked) -> StreamingResponse:
        name = f"redemptions-{asked.shown['from']}-{asked.shown['to']}.csv"
        return StreamingResponse(
            csv_export(hub, asked.filter, asked.scoped, lang_of(request)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @router.get("/redemptions.xlsx")
    def redemptions_xlsx(request: Request, asked: Asked) -> FileResponse:
        """The same rows as a workbook, written a row at a time (openpyxl's write-only mode)."""
        rows = store.redemption_rows(hub, asked.filter, asked.scoped)
        return file_sent(
            lambda path: write_xlsx(rows, lang_of(request), path),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"redemptions-{asked.shown['from']}-{asked.shown['to']}.xlsx",
        )

    def places_seen(who: store.Who) -> list[tuple[int, str]]:
        """The places a person may choose in a form: their org and everything under it, by path."""
        nodes = store.orgs(hub)
        by_id = {o.id: o for o in nodes}
        return sorted(((o.id, path(by_id, o.id)) for o in nodes if who.scope.sees(o.id)), key=lambda p: p[1])

    def kiosk_page(request: Request, who: store.Who, status: int = 200, **extra: Any) -> HTMLResponse:
        places = places_seen(who)
        context: dict[str, Any] = {"page": "kiosks", "rows": store.fleet(hub, who.scope), "places": places}
        context["token"] = None
        context.update(techs=store.technicians(hub), manage_techs=store.may_manage_technicians(who))
        context.update(problem=None, added=None)
        context.update(extra)
        return render(request, "kiosks.html", lang_of(request), who, status, **context)

    @router.get("/kiosks")
    def kiosks(request: Request, who: Who) -> HTMLResponse:
        return kiosk_page(request, who)

    @router.post("/kiosks")
    def kiosk_add(
        request: Request,
        who: Who,
        token: Annotated[str, Form(max_length=64)],
        name: Annotated[str, Form(max_length=200)],
        place: Annotated[str, Form(max_length=12)],
    ) -> HTMLResponse:
        form_checked(request, who, token)
        changes_allowed(who)
        lang = lang_of(request)
        try:
            added = store.register_kiosk(hub, who, name, int(place) if place.isdigit() else -1)
        except store.ConsoleError as exc:
            return kiosk_page(request, who, 400, problem=say(str(exc), lang))
        # the token is on this page once: the hub keeps only its hash
        return kiosk_page(request, who, added=name.strip(), token=added["token"])

    @router.post("/kiosks/{kiosk_id}/retire")
    def kiosk_retire(
        request: Request,
        who: Who,
        kiosk_id: str,
        token: Annotated[str, Form(max_length=64)],
        confirm: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        form_checked(request, who, token)
        changes_allowed(who)
        named = next((r for r in store.fleet(hub, who.scope) if r.kiosk_id == kiosk_id), None)
        if named is None:
            raise PageProblem(404, N_("没有这台自助机，或您无权查看"))
        if confirm.strip() != named.name:
            return kiosk_page(
                request, who, 400, problem=say("请输入自助机的名称以确认停用", lang_of(request))
            )
        store.retire_kiosk(hub, who, kiosk_id)
        return RedirectResponse("/console/kiosks", status_code=303)

    def alert_page_with(request: Request, who: store.Who, status: int = 200, **extra: Any) -> HTMLResponse:
        lang = lang_of(request)
        context: dict[str, Any] = {
            "page": "alerts",
            "alerts": alerts.shown(hub, who.scope, lang),
            "thresholds": store.threshold_rows(hub, who),
            "kiosks": store.kiosks_in(hub, who.scope),
            "default_low": low_default,
            "problem": None,
        }
        context.update(extra)
        return render(request, "alerts.html", lang, who, status, **context)

    @router.get("/alerts")
    def alert_page(request: Request, who: Who) -> HTMLResponse:
        return alert_page_with(request, who)

    @router.post("/alerts/thresholds")
    def threshold_set(
        request: Request,
        who: Who,
        token: Annotated[str, Form(max_length=64)],
        at: Annotated[str, Form(max_length=6)],
        kiosk: Annotated[str, Form(max_length=36)] = "",
        lane: Annotated[str, Form(max_length=6)] = "",
        item: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        form_checked(request, who, token)
        changes_allowed(who)
        lang = lang_of(request)
        try:
            if not at.strip().isdigit() or (lane.strip() and not lane.strip().isdigit()):
                raise store.ConsoleError(N_("提醒线应是 0 到 1000 之间的整数"))
            number = int(lane) if lane.strip() else None
            store.set_threshold(hub, who, kiosk or None, number, item.strip() or None, int(at))
        except store.ConsoleError as exc:
            return alert_page_with(request, who, 400, problem=say(str(exc), lang))
        return RedirectResponse("/console/alerts", status_code=303)

    @router.post("/alerts/thresholds/{threshold_id}/clear")
    def threshold_clear(
        request: Request, who: Who, threshold_id: int, token: Annotated[str, Form(max_length=64)]
    ) -> Response:
        form_checked(request, who, token)
        changes_allowed(who)
        try:
            store.clear_threshold(hub, who, threshold_id)
        except store.ConsoleError as exc:
            raise PageProblem(404, str(exc)) from None
        return RedirectResponse("/console/alerts", status_code=303)

    @router.post("/alerts/{alert_id}/seen")
    def alert_seen(
        request: Request, who: Who, alert_id: int, token: Annotated[str, Form(max_length=64)]
    ) -> Response:
        form_checked(request, who, token)
        if not alerts.mark_seen(hub, who, alert_id):
            raise PageProblem(404, N_("没有这条告警，或您无权查看"))
        return RedirectResponse("/console/alerts", status_code=303)

    @router.post("/technicians")
    def technician_add(
        request: Request,
        who: Who,
        token: Annotated[str, Form(max_length=64)],
        tech_id: Annotated[str, Form(max_length=100)],
        name: Annotated[str, Form(max_length=200)],
        pin: Annotated[str, Form(max_length=20)],
    ) -> HTMLResponse:
        form_checked(request, who, token)
        changes_allowed(who)
        try:
            store.add_technician(hub, who, tech_id, name, pin)
        except store.ConsoleError as exc:
            return kiosk_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return kiosk_page(request, who)

    @router.post("/technicians/{tech_id}/remove")
    def technician_remove(
        request: Request,
        who: Who,
        tech_id: str,
        token: Annotated[str, Form(max_length=64)],
        confirm: Annotated[str, Form(max_length=100)] = "",
    ) -> HTMLResponse:
        """Stop a technician opening any kiosk: their id typed again, so one slip removes nobody."""
        form_checked(request, who, token)
        changes_allowed(who)
        if confirm.strip() != tech_id:
            problem = say("请输入技术员编号以确认停用", lang_of(request))
            return kiosk_page(request, who, 400, problem=problem)
        try:
            store.remove_technician(hub, who, tech_id)
        except store.ConsoleError as exc:
            return kiosk_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return kiosk_page(request, who)

    @router.post("/technicians/{tech_id}/card")
    def technician_card(
        request: Request, who: Who, tech_id: str, token: Annotated[str, Form(max_length=64)]
    ) -> Response:
        """A PDF with the technician's card for today (a 12-hour code), recorded as issued."""
        form_checked(request, who, token)
        changes_allowed(who)
        try:
            return file_sent(
                lambda path: store.technician_card(hub, who, tech_id, path),
                "application/pdf",
                f"technician-{tech_id}.pdf",
            )
        except store.ConsoleError as exc:
            return kiosk_page(request, who, 400, problem=say(str(exc), lang_of(request)))

    @router.get("/volunteers")
    def volunteers(request: Request, who: Who, q: Annotated[str, Query(max_length=64)] = "") -> Response:
        found = store.find_volunteers(hub, q)
        if len(found) == 1 and q.strip():
            return RedirectResponse(f"/console/volunteers/{found[0]['id']}", status_code=303)
        return render(
            request,
            "volunteers.html",
            lang_of(request),
            who,
            page="volunteers",
            q=q,
            found=found,
            person=None,
        )

    @router.get("/volunteers/{volunteer_id}")
    def volunteer(request: Request, who: Who, volunteer_id: str) -> HTMLResponse:
        person = store.volunteer(hub, who, volunteer_id)
        if person is None:
            raise PageProblem(404, N_("没有这位志愿者"))
        return render(
            request,
            "volunteers.html",
            lang_of(request),
            who,
            page="volunteers",
            q="",
            found=[],
            person=person,
        )

    @router.post("/volunteers/{volunteer_id}/cards/{card_id}/revoke")
    def volunteer_card_revoke(
        request: Request,
        who: Who,
        volunteer_id: str,
        card_id: str,
        token: Annotated[str, Form(max_length=64)],
    ) -> Response:
        form_checked(request, who, token)
        changes_allowed(who)
        try:
            store.revoke_volunteer_card(hub, who, volunteer_id, card_id)
        except store.ConsoleError as exc:
            raise PageProblem(404, str(exc)) from None
        return RedirectResponse(f"/console/volunteers/{volunteer_id}", status_code=303)

    @router.post("/volunteers/{volunteer_id}/card")
    def volunteer_card_print(
        request: Request, who: Who, volunteer_id: str, token: Annotated[str, Form(max_length=64)]
    ) -> Response:
        """A PDF with a new card for the volunteer, recorded as issued (revocable on this page)."""
        form_checked(request, who, token)
        changes_allowed(who)
        try:
            return file_sent(
                lambda path: store.volunteer_card(hub, who, volunteer_id, path),
                "application/pdf",
                f"card-{volunteer_id}.pdf",
            )
        except store.ConsoleError as exc:
            raise PageProblem(404, str(exc)) from None

    @router.post("/volunteers/{volunteer_id}/card-pin/clear")
    def volunteer_card_pin_clear(
        request: Request, who: Who, volunteer_id: str, token: Annotated[str, Form(max_length=64)]
    ) -> Response:
        form_checked(request, who, token)
        changes_allowed(who)
        if store.volunteer(hub, who, volunteer_id) is None:
            raise PageProblem(404, N_("没有这位志愿者"))
        store.clear_volunteer_card_pin(hub, who, volunteer_id)
        return RedirectResponse(f"/console/volunteers/{volunteer_id}", status_code=303)

    @router.get("/hours")
    def hours_page(request: Request, who: Who) -> HTMLResponse:
        return render(request, "hours.html", lang_of(request), who, page="hours", report=None, problem=None)

    @router.post("/hours")
    def hours_upload(
        request: Request,
        who: Who,
        token: Annotated[str, Form(max_length=64)],
        file: Annotated[UploadFile, File()],
        rate: Annotated[str, Form(max_length=12)] = str(RATE),
    ) -> HTMLResponse:
        form_checked(request, who, token)
        changes_allowed(who)
        lang = lang_of(request)
        if not (rate.strip().isdigit() and 1 <= int(rate) <= MAX_RATE):
            raise PageProblem(400, N_("每小时益币数应是正整数"))
        name = file.filename or "?"
        try:
            report = hub.import_hours(as_csv(file.file.read()), int(rate))
        except ValueError as exc:  # unreadable as a whole (the importer says where), or a bad workbook
            problem = say("这个文件无法导入：{why}", lang, why=str(exc))
            return render(request, "hours.html", lang, who, 400, page="hours", report=None, problem=problem)
        with hub.unit() as s:
            store.audit(
                s,
                hub,
                who.name,
                "hours_imported",
                f"file:{name}"[:100],
                **report.as_json() | {"errors": len(report.errors)},
            )
        return render(request, "hours.html", lang, who, page="hours", report=report, problem=None, file=name)

    # --- staff accounts ------------------------------------------------------------

    def staff_page(request: Request, who: store.Who, status: int = 200, **extra: Any) -> HTMLResponse:
        if not store.may_manage_staff(who):
            raise PageProblem(403, N_("只有管理员可以管理账号"))
        places = places_seen(who)
        people = store.staff_in(hub, who.scope)
        context: dict[str, Any] = {"page": "staff", "people": people, "places": places}
        context.update(problem=None, roles=[r.value for r in rules.Role])
        context.update(extra)
        return render(request, "staff.html", lang_of(request), who, status, **context)

    @router.get("/staff")
    def staff(request: Request, who: Who) -> HTMLResponse:
        return staff_page(request, who)

    @router.post("/staff")
    def staff_save(
        request: Request,
        who: Who,
        token: Annotated[str, Form(max_length=64)],
        name: Annotated[str, Form(max_length=100)],
        role: Annotated[str, Form(max_length=16)],
        password: Annotated[str, Form(max_length=200)],
        place: Annotated[str, Form(max_length=12)] = "",
    ) -> Response:
        form_checked(request, who, token)
        if not store.may_manage_staff(who):
            raise PageProblem(403, N_("只有管理员可以管理账号"))
        if role not in {r.value for r in rules.Role}:
            raise PageProblem(400, N_("请选择一个角色"))
        org_id = int(place) if place.strip().isdigit() else None
        try:
            store.save_staff(hub, who.name, who.scope, name, rules.Role(role), org_id, password)
        except store.ConsoleError as exc:
            return staff_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return RedirectResponse("/console/staff", status_code=303)

    @router.post("/staff/{staff_id}/disable")
    def staff_disable(
        request: Request,
        who: Who,
        staff_id: int,
        token: Annotated[str, Form(max_length=64)],
        confirm: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        form_checked(request, who, token)
        if not store.may_manage_staff(who):
            raise PageProblem(403, N_("只有管理员可以管理账号"))
        named = next((p for p in store.staff_in(hub, who.scope) if p["id"] == staff_id), None)
        if named is None:
            raise PageProblem(404, N_("没有这个账号"))
        if confirm.strip() != named["name"]:
            return staff_page(request, who, 400, problem=say("请输入用户名以确认停用", lang_of(request)))
        try:
            store.disable_staff(hub, who, staff_id)
        except store.ConsoleError as exc:
            return staff_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return RedirectResponse("/console/staff", status_code=303)

    # --- the catalogue ---------------------------------------------------------------

    def catalogue_page(request: Request, who: store.Who, status: int = 200, **extra: Any) -> HTMLResponse:
        context: dict[str, Any] = {
            "page": "catalogue",
            "items": goods.items(hub),
            "manage": goods.may_manage_catalogue(who),
            "problem": None,
            "history": None,
            "chosen": None,
        }
        context.update(extra)
        return render(request, "catalogue.html", lang_of(request), who, status, **context)

    def catalogue_change(request: Request, who: store.Who, token: str) -> None:
        form_checked(request, who, token)
        changes_allowed(who)
        if not goods.may_manage_catalogue(who):
            raise PageProblem(403, N_("只有全市的工作人员可以修改商品和价格"))

    ItemForm = Annotated[str, Form(max_length=200)]

    @router.get("/catalogue")
    def catalogue(request: Request, who: Who) -> HTMLResponse:
        return catalogue_page(request, who)

    @router.get("/catalogue/{item_id}")
    def catalogue_item(request: Request, who: Who, item_id: int) -> HTMLResponse:
        chosen = next((i for i in goods.items(hub) if i.id == item_id), None)
        if chosen is None:
            raise PageProblem(404, N_("没有这件商品"))
        return catalogue_page(request, who, chosen=chosen, history=goods.history(hub, item_id))

    @router.post("/catalogue")
    def catalogue_add(
        request: Request,
        who: Who,
        token: Annotated[str, Form(max_length=64)],
        name_zh: ItemForm,
        price: Annotated[str, Form(max_length=12)],
        name_en: ItemForm = "",
        donor: ItemForm = "",
    ) -> Response:
        catalogue_change(request, who, token)
        try:
            goods.save_item(hub, who.name, rules.CatalogueDraft(name_zh, name_en, price, donor))
        except store.ConsoleError as exc:
            return catalogue_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return RedirectResponse("/console/catalogue", status_code=303)

    @router.post("/catalogue/{item_id}")
    def catalogue_save(
        request: Request,
        who: Who,
        item_id: int,
        token: Annotated[str, Form(max_length=64)],
        name_zh: ItemForm,
        price: Annotated[str, Form(max_length=12)],
        name_en: ItemForm = "",
        donor: ItemForm = "",
    ) -> Response:
        catalogue_change(request, who, token)
        try:
            goods.save_item(hub, who.name, rules.CatalogueDraft(name_zh, name_en, price, donor), item_id)
        except store.ConsoleError as exc:
            return catalogue_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return RedirectResponse("/console/catalogue", status_code=303)

    @router.post("/catalogue/{item_id}/picture")
    def catalogue_picture(
        request: Request,
        who: Who,
        item_id: int,
        token: Annotated[str, Form(max_length=64)],
        file: Annotated[UploadFile, File()],
    ) -> Response:
        catalogue_change(request, who, token)
        data = file.file.read(goods.MAX_UPLOAD + 1)
        try:
            goods.set_picture(hub, who.name, item_id, data)
        except store.ConsoleError as exc:
            return catalogue_page(request, who, 400, problem=say(str(exc), lang_of(request)))
        return RedirectResponse("/console/catalogue", status_code=303)

    @router.get("/catalogue/pictures/{sha256}")
    def catalogue_picture_shown(
        who: Who, sha256: Annotated[str, FastPath(pattern=r"^[0-9a-f]{64}$")]
    ) -> Response:
        data = goods.picture(hub, sha256)
        if data is None:
            raise PageProblem(404, N_("没有这张图片"))
        return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @router.post("/catalogue/{item_id}/on-sale")
    def catalogue_on_sale(
        request: Request,
        who: Who,
        item_id: int,
        token: Annotated[str, Form(max_length=64)],
        on: Annotated[str, Form(max_length=1)],
    ) -> Response:
        catalogue_change(request, who, token)
        try:
            goods.set_on_sale(hub, who.name, item_id, on == "1")
        except store.ConsoleError as exc:
            raise PageProblem(404, str(exc)) from None
        return RedirectResponse("/console/catalogue", status_code=303)

    # --- donors --------------------------------------------------------------------

    def donor_question(
        who: Who,
        start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    ) -> tuple[dt.date, dt.date]:
        """The period a donors' report covers: this quarter so far unless asked."""
        today = dt.datetime.fromtimestamp(hub.clock(), CITY_TZ).date()
        quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        first, last = local_day(start, quarter), local_day(end, today)
        if last < first:
            raise PageProblem(400, N_("结束日期早于开始日期"))
        return first, last

    Period = Annotated[tuple[dt.date, dt.date], Depends(donor_question)]

    def donor_lines(who: store.Who, period: tuple[dt.date, dt.date]) -> list[rules.DonorLine]:
        first, last = period
        return goods.donor_report(hub, who, day_start(first), day_start(last + dt.timedelta(days=1)))

    def donors_page(
        request: Request, who: store.Who, period: tuple[dt.date, dt.date], status: int = 200, **extra: Any
    ) -> HTMLResponse:
        places = places_seen(who)
        shown = {"from": period[0].isoformat(), "to": period[1].isoformat()}
        context: dict[str, Any] = {
            "page": "donors",
            "lines": donor_lines(who, period),
            "donated": [i for i in goods.items(hub) if i.donor],
            "places": places,
            "recent": goods.donations(hub, who),
            "shown": shown,
            "query": urlencode(shown),
            "today": dt.datetime.fromtimestamp(hub.clock(), CITY_TZ).date().isoformat(),
            "problem": None,
        }
        context.update(extra)
        return render(request, "donors.html", lang_of(request), who, status, **context)

    @router.get("/donors")
    def donors(request: Request, who: Who, period: Period) -> HTMLResponse:
        return donors_page(request, who, period)

    def donor_table(request: Request, who: store.Who, period: tuple[dt.date, dt.date]) -> Any:
        lang = lang_of(request)
        return goods.report_rows(donor_lines(who, period), [say(h, lang) for h in goods.DONOR_HEADER])

    @router.get("/donors.csv")
    def donors_csv(request: Request, who: Who, period: Period) -> StreamingResponse:
        name = f"donors-{period[0].isoformat()}-{period[1].isoformat()}.csv"
        return StreamingResponse(
            csv_chunks(donor_table(request, who, period)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @router.get("/donors.xlsx")
    def donors_xlsx(request: Request, who: Who, period: Period) -> FileResponse:
        table = donor_table(request, who, period)
        return file_sent(
            lambda path: write_sheet(table, say("捐赠", lang_of(request)), path),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"donors-{period[0].isoformat()}-{period[1].isoformat()}.xlsx",
        )

    @router.post("/donors")
    def donation_add(
        request: Request,
        who: Who,
        period: Period,
        token: Annotated[str, Form(max_length=64)],
        item: Annotated[str, Form(max_length=12)],
        quantity: Annotated[str, Form(max_length=12)],
        place: Annotated[str, Form(max_length=12)] = "",
        day: Annotated[str, Form(max_length=10)] = "",
        note: Annotated[str, Form(max_length=400)] = "",
    ) -> Response:
        form_checked(request, who, token)
        changes_allowed(who)
        today = dt.datetime.fromtimestamp(hub.clock(), CITY_TZ).date()
        given = local_day(day.strip() or None, today)
        org_id = int(place) if place.strip().isdigit() else None
        try:
            if not item.strip().isdigit():
                raise store.ConsoleError(N_("没有这件商品"))
            goods.record_donation(hub, who, int(item), quantity, org_id, day_start(given), note)
        except store.ConsoleError as exc:
            return donors_page(request, who, period, 400, problem=say(str(exc), lang_of(request)))
        return RedirectResponse("/console/donors", status_code=303)

    return router


def switch_link(request: Request, lang: str) -> str:
    """This page in the other language, with the same filters."""
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    query["lang"] = "en" if lang == SOURCE else SOURCE
    return f"{request.url.path}?{urlencode(query)}"


@dataclass(frozen=True)
class Chosen:
    """A redemption report's question: the filter, the kiosks the person sees (``scoped``:
    the same, or None for the city's staff, who see every kiosk and unplaced ones too), and
    the filter as the form shows it."""

    filter: store.RedemptionFilter
    kiosks: dict[str, str]
    scoped: dict[str, str] | None
    shown: dict[str, str]


def file_sent(write: Callable[[Path], object], media_type: str, filename: str) -> FileResponse:
    """A file made by ``write`` in a temporary place, sent as a download, then removed (also
    when ``write`` fails: its exception goes on)."""
    fd, name = tempfile.mkstemp(suffix=Path(filename).suffix)
    os.close(fd)
    try:
        write(Path(name))
    except BaseException:
        os.unlink(name)
        raise
    return FileResponse(
        name,
        media_type=media_type,
        filename=filename,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(os.unlink, name),
    )


def shown_days(shown: dict[str, str]) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(shown["from"]), dt.date.fromisoformat(shown["to"])


def safe_back(back: str) -> str:
    """Only a console page: never send a person off to another site after signing in."""
    return back if back.startswith("/console/") and not back.startswith("//") else "/console/fleet"


EPOCH = dt.date(1970, 1, 1)
CHART_DAYS = 400
"""Longer ranges chart only the days that had redemptions."""


def day_chart(
    by_day: list[tuple[int, int, int]], first: dt.date, last: dt.date, width: int = 720, height: int = 160
) -> dict[str, Any]:
    """Bars of items redeemed per day over the whole range (a day without any is a gap), laid
    out for an inline SVG: no script needed."""
    counts = {day: (n, spent) for day, n, spent in by_day}
    days = list(range((first - EPOCH).days, (last - EPOCH).days + 1))
    if len(days) > CHART_DAYS:
        days = sorted(counts)
    top = max((n for n, _ in counts.values()), default=0)
    step = width / max(1, len(days))
    bars = []
    for i, day in enumerate(days):
        n, spent = counts.get(day, (0, 0))
        h = round((height - 20) * n / top) if top else 0
        bars.append(
            {
                "x": round(i * step + 1, 1),
                "w": max(1.0, round(step - 2, 1)),
                "y": height - h,
                "h": h,
                "n": n,
                "spent": spent,
                "day": (EPOCH + dt.timedelta(days=day)).isoformat(),
            }
        )
    return {"bars": [b for b in bars if b["n"]], "all": bars, "width": width, "height": height, "top": top}


def install(api: Any, hub: Hub, secure_cookie: bool = False) -> None:
    """Mount the console and its static files on the hub's FastAPI app."""
    api.include_router(console(hub, secure_cookie))
    api.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    # the CJK font the kiosk ships: an office PC without one still shows every Chinese glyph
    api.mount("/console/fonts", StaticFiles(directory=str(FONTS)), name="console-fonts")

    async def to_signin(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return RedirectResponse(f"/console/signin?{urlencode({'back': exc.back})}", status_code=303)

    async def problem_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageProblem)
        lang = lang_of(request)
        sentence, back = escape(say(exc.message, lang)), escape(say("回到总览", lang))
        body = f"<!doctype html><meta charset=utf-8><title>{exc.status}</title><p>{sentence}</p>"
        body += f'<p><a href="/console/fleet">{back}</a></p>'
        return HTMLResponse(body, status_code=exc.status, headers={"Cache-Control": "no-store"})

    api.add_exception_handler(SignInNeeded, to_signin)
    api.add_exception_handler(PageProblem, problem_page)
