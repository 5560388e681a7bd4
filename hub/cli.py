"""The ``kiosk-hub`` command: serve the hub, register kiosks, import hours, issue codes.

    kiosk-hub [--db URL] [--key-file PATH] init
    kiosk-hub [--db URL] serve [--host H] [--port P] [--workers N]
              [--max-body-bytes B] [--push-per-minute N] [--push-burst N]
    kiosk-hub [--db URL] kiosk add NAME | kiosk list
    kiosk-hub [--db URL] kiosk revoke KIOSK_ID | kiosk token KIOSK_ID [--grace-hours 24]
    kiosk-hub [--db URL] app add NAME | app revoke APP_ID | app token APP_ID [--grace-hours 24]
    kiosk-hub [--db URL] tech add TECH_ID NAME (PIN on stdin) | tech remove TECH_ID
    kiosk-hub [--db URL] card-pin set VOLUNTEER_ID (6 digits on stdin) | card-pin clear VOLUNTEER_ID
    kiosk-hub [--db URL] import-hours FILE.csv [--rate 10]
    kiosk-hub [--db URL] balance VOLUNTEER_ID
    kiosk-hub [--db URL] code issue VOLUNTEER_ID [--kind app|card] | code issue TECH_ID --kind tech
    kiosk-hub [--db URL] cards VOLUNTEER_ID... --out sheet.pdf   (prints each card's id)
    kiosk-hub [--db URL] cards --tech TECH_ID... --out sheet.pdf (technicians' cards, 12 h)
    kiosk-hub [--db URL] cards --of ID                 (the cards issued to a volunteer, with their ids)
    kiosk-hub [--db URL] revoke-card CARD_ID [--unlisted] | revoke-card --all-of VOLUNTEER_ID
    kiosk-hub [--db URL] key rotate | key list | key drop KID
    kiosk-hub [--db URL] jwks                          (the trust list kiosks receive)
    kiosk-hub [--db URL] quarantine [--limit N]        (events the hub refused, newest first)

``--db`` defaults to ``$HUB_DATABASE_URL`` or a SQLite file in the user data directory;
every setting has such a variable (``hub/settings.py``). Only ``init`` creates a hub
database: every other command on a database that does not exist or has no hub tables says
so in one line and exits 2, creating nothing (``hub/db.py``); one at an older revision is
upgraded. The commands that sign (``init``, ``serve``, ``code``, ``cards``, ``key rotate``)
need the key-encryption key (``hub/kek.py``): the first of them on a new database makes its
key file; without it, a database whose keys are sealed is refused in one line (exit 2).
Every id given (volunteer, technician, card) is NFKC-normalised and trimmed, and one with a
space or a control character inside is refused (``protocol/ids.py``, exit 2). Each command
prints JSON (``code issue`` prints the code) and exits 0, 1 when a named volunteer,
technician, kiosk, key or card is unknown, 2 on bad arguments (a PIN of the wrong shape
among them) or a database it cannot open. A PIN is read from standard input (without echo
on a terminal) and never printed.
``import-hours`` exits 1 when it refused some rows (the others went in; stderr has a
one-line summary) and 2 when it applied nothing (an unreadable file, or the database
refused it). No command prints a private key.
``$HUB_MAX_EVENT_AMOUNT`` caps the 益币 one pushed event may move (default 10,000).
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Table

from protocol.codes import MAX_LIFETIME_S, CodeKind
from protocol.ids import MAX_ID_LENGTH, BadId, clean_id
from protocol.logs import logging_config, setup_logging

from .console import commands as console_commands
from .console import store as console_store
from .db import HubDatabaseError, open_hub, shown
from .hours import column_length
from .ingest import EventLimits
from .kek import KekError
from .models import RevokedCard
from .service import (
    APP_CODE_S,
    TOKEN_GRACE_S,
    Hub,
    NotACard,
    UnknownCard,
    UnknownClient,
    UnknownKey,
    UnknownTechnician,
    UnknownVolunteer,
    iso,
)
from .settings import Settings, SettingsError, positive

log = logging.getLogger("hub.cli")

APP_NAME = "timebank-hub"
"""The hub's name in the platform's user directories (data, configuration, logs)."""
LOG_NAME = "hub"

TECH_HOURS = MAX_LIFETIME_S[CodeKind.TECH] // 3600
"""A technician's code lives the longest a kiosk accepts for one."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kiosk-hub", description="The time bank's hub")
    ap.add_argument("--db", help="database URL (default: $HUB_DATABASE_URL, else a SQLite file)")
    ap.add_argument(
        "--key-file",
        type=Path,
        help="the key-encryption key's file (default: $HUB_KEY_FILE, else hub-kek in the user "
        "config directory); HUB_KEK or $CREDENTIALS_DIRECTORY/hub-kek come first",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the database, the key-encryption key and a signing key")
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (one per core)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--max-body-bytes", type=positive, help="largest request body (default 4 MiB)")
    serve.add_argument("--push-per-minute", type=positive, help="a kiosk's pushes a minute (default 120)")
    serve.add_argument("--push-burst", type=positive, help="a kiosk's pushes back to back (default 120)")
    kiosk = sub.add_parser("kiosk", help="kiosks").add_subparsers(dest="kiosk_command", required=True)
    add = kiosk.add_parser("add", help="register a kiosk and print its token once")
    add.add_argument("name")
    kiosk.add_parser("list", help="kiosks with their token's state and latest status report")
    app = sub.add_parser("app", help="the volunteer app's server").add_subparsers(
        dest="app_command", required=True
    )
    app.add_parser("add", help="a token for the app's server to ask for codes with").add_argument("name")
    partner = sub.add_parser("partner", help="partners who check vouchers (a park, a child-care centre)")
    partners = partner.add_subparsers(dest="partner_command", required=True)
    partners.add_parser("add", help="a token for the partner's desk to check vouchers with").add_argument(
        "name"
    )
    voucher = sub.add_parser("voucher", help="兑换券: vouchers for a partner's service").add_subparsers(
        dest="voucher_command", required=True
    )
    vissue = voucher.add_parser("issue", help="sign a voucher for a volunteer and charge its value")
    vissue.add_argument("volunteer_id")
    vissue.add_argument("--item", required=True, help="the service, as the partner reads it")
    vissue.add_argument("--value", type=int, required=True, help="益币")
    vissue.add_argument("--days", type=int, default=180, help="how long it can be used (default 180)")
    vredeem = voucher.add_parser("redeem", help="check a voucher once, as a partner's desk does")
    vredeem.add_argument("code")
    vredeem.add_argument("--partner", required=True, help="the partner's name (kiosk-hub partner add)")
    for role, commands in (("kiosk", kiosk), ("app", app), ("partner", partners)):
        ident = f"{role}_id"
        revoke_token = commands.add_parser("revoke", help=f"the {role}'s token stops working now")
        revoke_token.add_argument(ident, metavar=ident.upper())
        new_token = commands.add_parser(
            "token", help=f"print a new token for the {role}; the old one works for a grace period"
        )
        new_token.add_argument(ident, metavar=ident.upper())
        new_token.add_argument(
            "--grace-hours",
            type=hours,
            default=TOKEN_GRACE_S / 3600,
            help="how long the old token keeps working (default 24; 0: it stops now)",
        )
    tech = sub.add_parser("tech", help="technicians").add_subparsers(dest="tech_command", required=True)
    tadd = tech.add_parser("add", help="add a technician or change their PIN (read from stdin)")
    tadd.add_argument("tech_id")
    tadd.add_argument("name")
    tech.add_parser("remove", help="a technician may no longer open kiosks").add_argument("tech_id")
    card = sub.add_parser("card-pin", help="the PIN a volunteer's printed card asks for at kiosks")
    pins = card.add_subparsers(dest="card_pin_command", required=True)
    pins.add_parser("set", help="set or change it (6 digits, read from stdin)").add_argument("volunteer_id")
    pins.add_parser("clear", help="the card asks for no PIN any more").add_argument("volunteer_id")
    imp = sub.add_parser("import-hours", help="credit certified hours from the platform's CSV")
    imp.add_argument("file", type=Path)
    imp.add_argument("--rate", type=int, default=10, help="益币 per hour (default 10)")
    bal = sub.add_parser("balance", help="a volunteer's balance")
    bal.add_argument("volunteer_id")
    code = sub.add_parser("code", help="volunteer and technician codes").add_subparsers(
        dest="code_command", required=True
    )
    issue = code.add_parser("issue", help="sign a code for a volunteer (or, --kind tech, a technician)")
    issue.add_argument(
        "volunteer_id", metavar="ID", help="a volunteer's id (a technician's with --kind tech)"
    )
    issue.add_argument(
        "--kind",
        choices=[str(k) for k in CodeKind],
        default="app",
        help=f"app: a phone's, {APP_CODE_S} s; card: a printed card's, the longest life kiosks accept; "
        f"tech: an active technician's, {TECH_HOURS} h",
    )
    cards = sub.add_parser(
        "cards", help="print a sheet of cards (PNG or PDF), or list a volunteer's cards with --of"
    )
    cards.add_argument("volunteer_ids", nargs="*", metavar="ID", help="volunteers (technicians with --tech)")
    cards.add_argument(
        "--tech", action="store_true", help=f"the ids are technicians': cards valid {TECH_HOURS} h"
    )
    cards.add_argument("--out", type=Path, help="sheet.pdf or sheet.png")
    cards.add_argument(
        "--of", metavar="ID", help="list the cards issued to this volunteer (or technician): ids, revoked"
    )
    key = sub.add_parser("key", help="signing keys").add_subparsers(dest="key_command", required=True)
    key.add_parser(
        "rotate",
        help="a new active key; the old one signs no more and stays in the trust list until every "
        "card it signed has expired",
    )
    key.add_parser("list", help="each key: kid, state, created, retired, keep-until, in the JWKS now")
    drop = key.add_parser(
        "drop", help="take a retired key out of the trust list now (it leaked): its cards stop working"
    )
    drop.add_argument("kid")
    sub.add_parser("jwks", help="print the trust list (public keys) kiosks receive")
    revoke = sub.add_parser("revoke-card", help="a lost card stops working at every kiosk's next sync")
    revoke.add_argument(
        "card_id",
        nargs="?",
        metavar="CARD_ID",
        help="the card's id, as `cards` printed it (see `cards --of`)",
    )
    revoke.add_argument(
        "--unlisted",
        action="store_true",
        help="revoke an id this hub has no record of: a card printed before the hub recorded its cards",
    )
    revoke.add_argument(
        "--all-of",
        metavar="VOLUNTEER_ID",
        help="revoke every recorded card of this volunteer not expired yet",
    )
    console_commands.add_parsers(sub)
    console_commands.place_option(add)
    place = kiosk.add_parser("place", help="say where a kiosk stands (its org)")
    place.add_argument("kiosk_id", metavar="KIOSK_ID")
    place.add_argument("--in", dest="org", required=True, help="the org, as 区/街道/社区")
    held = sub.add_parser("quarantine", help="events kiosks pushed that the hub refused, with the reason")
    held.add_argument("--limit", type=int, default=100, help="newest first, at most this many (default 100)")
    return ap


def hours(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(text)
    return value


NEEDS = {"serve": ("fastapi", "uvicorn"), "cards": ("PIL",)}
"""Libraries of the ``hub`` extra each command needs (a kiosk's own install has none of them)."""


def missing_libraries(command: str) -> list[str]:
    return [name for name in NEEDS.get(command, ()) if importlib.util.find_spec(name) is None]


def show_progress(done: int, total: int) -> None:
    """Rows written so far, on one line of a terminal's stderr."""
    end = "\n" if done == total else ""
    print(f"\rimport-hours: {done}/{total} rows", end=end, file=sys.stderr, flush=True)


def signs(ns: argparse.Namespace) -> bool:
    """Whether the command needs the key-encryption key (it signs, or serves what signs)."""
    if ns.command == "key":
        return bool(ns.key_command == "rotate")
    if ns.command == "cards":
        return ns.of is None
    if ns.command == "voucher":
        return bool(ns.voucher_command == "issue")
    return ns.command in ("init", "serve", "code")


_REVOKED = RevokedCard.__table__
assert isinstance(_REVOKED, Table)
CARD_ID_LENGTH = column_length(_REVOKED, "jti")
"""A card id's most characters: the column that keeps revoked ones."""


def clean_ids(ns: argparse.Namespace) -> None:
    """Every id the command was given, NFKC-normalised and trimmed (``protocol.ids``); raises BadId."""
    person = "technician id" if getattr(ns, "kind", None) == "tech" or getattr(ns, "tech", False) else None
    fields = {
        "volunteer_id": person or "volunteer id",
        "volunteer_ids": person or "volunteer id",
        "tech_id": "technician id",
        "of": "id",
        "all_of": "volunteer id",
        "card_id": "card id",
    }
    for name, field in fields.items():
        value = getattr(ns, name, None)
        limit = CARD_ID_LENGTH if name == "card_id" else MAX_ID_LENGTH
        if isinstance(value, list):
            setattr(ns, name, [clean_id(v, field, limit) for v in value])
        elif isinstance(value, str):
            setattr(ns, name, clean_id(value, field, limit))


def settings_from(ns: argparse.Namespace) -> Settings:
    """The environment's settings (``hub/settings.py``), overridden by the options given."""
    settings = Settings.from_environ()
    if ns.db:
        settings = replace(settings, database_url=ns.db)
    if ns.key_file:
        settings = replace(settings, key_file=ns.key_file)
    if ns.command == "serve":
        given = {
            name: getattr(ns, name)
            for name in ("max_body_bytes", "push_per_minute", "push_burst")
            if getattr(ns, name) is not None
        }
        settings = replace(settings, limits=replace(settings.limits, **given))
    return settings


ARGUMENTS = ("name", "kiosk_id", "app_id", "tech_id", "volunteer_id", "volunteer_ids", "card_id", "file")
"""The arguments a command's log line names (none is a secret: a PIN comes on stdin)."""


def what(ns: argparse.Namespace, settings: Settings | None = None) -> str:
    """A command as its log line names it: words, arguments, the database (no password)."""
    words = [ns.command]
    words += [getattr(ns, f"{ns.command}_command", None) or ""]
    for name in ARGUMENTS:
        value = getattr(ns, name, None)
        if value is not None:
            words += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    where = ""
    if settings is not None:
        where = " on " + shown(settings.database_url)
    return " ".join(w for w in words if w) + where


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    setup_logging(APP_NAME, LOG_NAME, level=ns.log_level.upper() if ns.command == "serve" else "INFO")
    code = run(ns)
    log.info("kiosk-hub %s: exit %d", what(ns), code)
    return code


def run(ns: argparse.Namespace) -> int:
    missing = missing_libraries(ns.command)
    if missing:  # before anything is created
        print(
            f"kiosk-hub {ns.command}: the hub's libraries are not installed ({', '.join(missing)}); "
            "install them with: pip install -c constraints.txt -e '.[hub]'",
            file=sys.stderr,
        )
        return 2
    try:
        clean_ids(ns)
        usage_of(ns)
        settings = settings_from(ns)
        limits = EventLimits.from_env()
        if ns.command in ("serve", "alerts"):
            console_commands.check_alert_env()
        log.info("kiosk-hub %s", what(ns, settings))
        engine = open_hub(settings.database_url, create=ns.command == "init")
    except (BadId, SettingsError, ValueError, HubDatabaseError) as exc:
        print(f"kiosk-hub: {exc}", file=sys.stderr)
        return 2
    try:
        hub = Hub(engine, limits=limits)
        if signs(ns):
            try:
                new_key_file = hub.unlock(settings.key_file)
            except KekError as exc:
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            if new_key_file is not None:
                print(
                    f"kiosk-hub: made a new key-encryption key in {new_key_file}; keep a copy apart from the "
                    "database: the signing keys cannot be used without it",
                    file=sys.stderr,
                )
        if ns.command == "init":
            print(
                json.dumps(
                    {
                        "database": shown(settings.database_url),
                        "key": hub.kek.where if hub.kek else None,
                        "keys": [k["kid"] for k in hub.jwks()["keys"]],
                    }
                )
            )
            return 0
        if ns.command == "serve":
            return serve(hub, settings, ns)
        if ns.command in ("kiosk", "app", "partner") and getattr(ns, f"{ns.command}_command") in (
            "revoke",
            "token",
        ):
            return credentials(hub, ns)
        if ns.command == "voucher":
            return voucher_command(hub, ns)
        if ns.command in ("app", "partner"):
            try:
                print(json.dumps(hub.add_kiosk(ns.name, role=ns.command), ensure_ascii=False))
            except ValueError as exc:
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            return 0
        if ns.command == "kiosk" and ns.kiosk_command == "list":
            print(json.dumps(hub.kiosks(), ensure_ascii=False))
            return 0
        if ns.command == "tech":
            return technicians(hub, ns)
        if ns.command == "card-pin":
            return card_pin(hub, ns)
        if ns.command in ("org", "staff", "report", "alerts", "volunteer", "threshold"):
            return console_commands.run(hub, ns)
        if ns.command == "kiosk" and ns.kiosk_command == "place":
            try:
                console_store.place_kiosk(hub, ns.kiosk_id, ns.org)
            except console_store.ConsoleError as exc:
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            except UnknownClient:
                print(f"kiosk-hub: no kiosk {ns.kiosk_id}", file=sys.stderr)
                return 1
            print(json.dumps({"kiosk_id": ns.kiosk_id, "in": ns.org}, ensure_ascii=False))
            return 0
        if ns.command == "kiosk":
            try:
                where = console_store.find_org(hub, ns.org) if ns.org else None
                added = hub.add_kiosk(ns.name)
                if where is not None:
                    console_store.place_kiosk(hub, added["kiosk_id"], str(where.id))
                print(json.dumps(added))
            except ValueError as exc:  # a bad name, an unknown org (before anything was added)
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            return 0
        if ns.command == "import-hours":
            return import_hours(hub, ns)
        if ns.command == "cards":
            return cards(hub, ns)
        if ns.command == "key":
            return keys(hub, ns)
        if ns.command == "jwks":
            print(json.dumps(hub.jwks()))
            return 0
        if ns.command == "quarantine":
            print(json.dumps(hub.quarantined(max(1, ns.limit)), ensure_ascii=False))
            return 0
        if ns.command == "revoke-card":
            return revoke_card(hub, ns)
        try:
            if ns.command == "balance":
                print(json.dumps(hub.balance(ns.volunteer_id)))
            else:
                print(hub.issue_code(ns.volunteer_id, CodeKind(ns.kind)))
        except UnknownVolunteer:
            print(f"kiosk-hub: no volunteer {ns.volunteer_id}", file=sys.stderr)
            return 1
        except UnknownTechnician:
            print(f"kiosk-hub: {no_technician(ns.volunteer_id)}", file=sys.stderr)
            return 1
        return 0
    finally:
        engine.dispose()


def usage_of(ns: argparse.Namespace) -> None:
    """What argparse cannot say of ``cards`` and ``revoke-card``'s options; ValueError in one line."""
    if ns.command == "cards":
        if ns.of is not None and (ns.volunteer_ids or ns.out or ns.tech):
            raise ValueError("cards --of ID lists cards: it takes no other ids, --tech or --out")
        if ns.of is None and not (ns.volunteer_ids and ns.out):
            raise ValueError(
                "cards: give the ids and --out sheet.pdf (or --of ID to list a volunteer's cards)"
            )
    if ns.command == "revoke-card" and (ns.card_id is None) == (ns.all_of is None):
        raise ValueError("revoke-card: give a CARD_ID or --all-of VOLUNTEER_ID (one of them)")
    if ns.command == "revoke-card" and ns.unlisted and ns.card_id is None:
        raise ValueError("revoke-card: --unlisted goes with a CARD_ID")


def no_technician(tech_id: str) -> str:
    return f"no active technician {tech_id}; add one with kiosk-hub tech add {tech_id} NAME"


def serve(hub: Hub, settings: Settings, ns: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_api

    if ns.workers > 1:  # each worker process opens the database itself, settings from the environment
        hub.engine.dispose()
        os.environ.update(settings.environ())
        uvicorn.run(
            "hub.app:api_from_env",
            factory=True,
            host=ns.host,
            port=ns.port,
            workers=ns.workers,
            log_level=ns.log_level,
            log_config=serving_log(ns.log_level),
        )
    else:
        uvicorn.run(
            create_api(hub, settings.limits),
            host=ns.host,
            port=ns.port,
            log_level=ns.log_level,
            log_config=serving_log(ns.log_level),
        )
    return 0


def technicians(hub: Hub, ns: argparse.Namespace) -> int:
    try:
        if ns.tech_command == "add":
            hub.set_technician(ns.tech_id, ns.name, read_pin())
        else:
            hub.remove_technician(ns.tech_id)
    except (ValueError, LookupError) as exc:
        print(f"kiosk-hub: {str(exc).strip(chr(39))}", file=sys.stderr)
        return 2
    print(json.dumps({"technician": ns.tech_id, "active": ns.tech_command == "add"}))
    return 0


def import_hours(hub: Hub, ns: argparse.Namespace) -> int:
    try:
        data = ns.file.read_bytes()
    except OSError as exc:
        print(f"kiosk-hub: cannot read {ns.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        report = hub.import_hours(data, ns.rate, show_progress if sys.stderr.isatty() else None)
    except ValueError as exc:  # a bad rate, an unreadable file, the database refused it
        log.info("import-hours %s: nothing imported: %s", ns.file, exc)
        print(f"kiosk-hub: {ns.file}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), ensure_ascii=False))
    log.info("import-hours %s: %s", ns.file, report.summary())
    if report.errors:  # the good rows went in; the refused ones are listed above
        print(f"kiosk-hub: {ns.file}: {report.summary()}", file=sys.stderr)
        return 1
    return 0


def cards(hub: Hub, ns: argparse.Namespace) -> int:
    """A sheet of volunteers' (or technicians') cards, each card's id printed; or ``--of``: a list."""
    if ns.of is not None:
        try:
            print(json.dumps(hub.cards_of(ns.of), ensure_ascii=False))
        except UnknownVolunteer:
            print(f"kiosk-hub: no volunteer or technician {ns.of}", file=sys.stderr)
            return 1
        return 0
    from .cards import Card, check_out, technician_caption, write

    kind = CodeKind.TECH if ns.tech else CodeKind.CARD
    try:
        check_out(ns.out)
        for holder in ns.volunteer_ids:  # every holder known before a card is issued and recorded
            hub.holder_name(holder, kind)
        issued = [hub.issue(holder, kind) for holder in ns.volunteer_ids]
        made = [
            Card(i.holder, i.name, i.code, technician_caption(i.expires_at))
            if ns.tech
            else Card(i.holder, i.name, i.code)
            for i in issued
        ]
        pages = write(made, ns.out)
    except UnknownVolunteer as exc:
        print(f"kiosk-hub: no volunteer {exc}", file=sys.stderr)
        return 1
    except UnknownTechnician as exc:
        print(f"kiosk-hub: {no_technician(str(exc))}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"kiosk-hub: {exc}", file=sys.stderr)
        return 2
    holder = "tech_id" if ns.tech else "volunteer_id"
    ids = [{holder: i.holder, "card_id": i.card_id, "expires": iso(i.expires_at)} for i in issued]
    print(
        json.dumps(
            {"cards": len(made), "pages": pages, "file": str(ns.out), "card_ids": ids}, ensure_ascii=False
        )
    )
    return 0


def voucher_command(hub: Hub, ns: argparse.Namespace) -> int:
    """``voucher issue`` prints the voucher's id and code; ``voucher redeem`` the partner's
    answer (exit 0 accepted, 1 refused: already used, expired, forged)."""
    from .vouchers import NotEnough, check, issue, partner_named

    if ns.voucher_command == "issue":
        try:
            voucher_id, code = issue(hub, ns.volunteer_id, ns.item, ns.value, ns.days)
        except UnknownVolunteer:
            print(f"kiosk-hub: no volunteer {ns.volunteer_id}", file=sys.stderr)
            return 1
        except NotEnough as exc:
            print(f"kiosk-hub: not issued: {exc}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"kiosk-hub: {exc}", file=sys.stderr)
            return 2
        print(json.dumps({"voucher_id": voucher_id, "code": code}))
        return 0
    partner = partner_named(hub, ns.partner.strip())
    if partner is None:
        print(f"kiosk-hub: no partner {ns.partner!r}; add one with kiosk-hub partner add", file=sys.stderr)
        return 2
    answer = check(hub, ns.code, partner)
    print(json.dumps(answer.as_json(), ensure_ascii=False))
    return 0 if answer.accepted else 1


def keys(hub: Hub, ns: argparse.Namespace) -> int:
    """``key rotate`` (the new kid and every key's state), ``key list``, ``key drop KID``."""
    if ns.key_command == "rotate":
        kid = hub.rotate_key()
        print(json.dumps({"kid": kid, "keys": hub.signing_keys()}))
        return 0
    if ns.key_command == "drop":
        try:
            hub.drop_key(ns.kid)
        except UnknownKey:
            print(
                f"kiosk-hub: no signing key {ns.kid}; `kiosk-hub key list` prints each key's kid",
                file=sys.stderr,
            )
            return 1
        except ValueError as exc:
            print(f"kiosk-hub: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(hub.signing_keys()))
    return 0


def revoke_card(hub: Hub, ns: argparse.Namespace) -> int:
    """``revoke-card CARD_ID [--unlisted]`` or ``revoke-card --all-of VOLUNTEER_ID``."""
    if ns.all_of is not None:
        try:
            revoked = hub.revoke_cards_of(ns.all_of)
        except UnknownVolunteer:
            print(f"kiosk-hub: no volunteer {ns.all_of}", file=sys.stderr)
            return 1
        print(json.dumps({"volunteer_id": ns.all_of, "revoked": revoked}))
        if not revoked:
            print(
                f"kiosk-hub: {ns.all_of} has no recorded card that has not expired: a card printed before "
                "the hub recorded its cards is revoked by its id with --unlisted",
                file=sys.stderr,
            )
            return 1
        return 0
    try:
        print(json.dumps(hub.revoke_card(ns.card_id, unlisted=ns.unlisted), ensure_ascii=False))
    except UnknownCard:
        print(
            f"kiosk-hub: no card {ns.card_id} was issued by this hub; `cards --of VOLUNTEER_ID` prints each "
            "card's id (a card printed before the hub recorded its cards: --unlisted)",
            file=sys.stderr,
        )
        return 1
    except NotACard as exc:
        print(
            f"kiosk-hub: {exc.jti} is technician {exc.holder}'s code, which kiosks do not check for "
            f"revocation: it expires at {iso(exc.expires_at)}; `kiosk-hub tech remove {exc.holder}` stops "
            "it at each kiosk's next sync",
            file=sys.stderr,
        )
        return 1
    return 0


def read_pin() -> str:
    """A PIN from standard input: typed without echo on a terminal, else its first line."""
    return getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()


def card_pin(hub: Hub, ns: argparse.Namespace) -> int:
    """``card-pin set``/``card-pin clear``: one line on stderr when refused, never the PIN."""
    try:
        if ns.card_pin_command == "set":
            hub.set_card_pin(ns.volunteer_id, read_pin())
        else:
            hub.clear_card_pin(ns.volunteer_id)
    except UnknownVolunteer:
        print(f"kiosk-hub: no volunteer {ns.volunteer_id}", file=sys.stderr)
        return 1
    except ValueError as exc:  # the PIN's shape; the message does not repeat the PIN
        print(f"kiosk-hub: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"volunteer_id": ns.volunteer_id, "card_pin": ns.card_pin_command == "set"}))
    return 0


def serving_log(level: str) -> dict[str, object]:
    """The logging setup uvicorn applies in each of its processes (``protocol.logs``): its
    own loggers, the access lines among them, go where the hub's go."""
    return logging_config(APP_NAME, LOG_NAME, level=level.upper())


def credentials(hub: Hub, ns: argparse.Namespace) -> int:
    """``kiosk revoke``/``kiosk token`` (and the same for the app): audited at the hub."""
    role = ns.command
    ident = getattr(ns, f"{role}_id")
    try:
        if getattr(ns, f"{role}_command") == "revoke":
            print(json.dumps({f"{role}_id": ident, "revoked_at": hub.revoke_client(ident, role)}))
        else:
            print(json.dumps(hub.rotate_token(ident, role, grace_s=round(ns.grace_hours * 3600))))
    except UnknownClient:
        print(f"kiosk-hub: no {role} {ident}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
