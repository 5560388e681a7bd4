"""The ``kiosk-hub`` command: serve the hub, register kiosks, import hours, issue codes.

    kiosk-hub [--db URL] [--key-file PATH] init
    kiosk-hub [--db URL] serve [--host H] [--port P] [--workers N]
              [--max-body-bytes B] [--push-per-minute N] [--push-burst N]
    kiosk-hub [--db URL] kiosk add NAME | kiosk list
    kiosk-hub [--db URL] kiosk revoke KIOSK_ID | kiosk token KIOSK_ID [--grace-hours 24]
    kiosk-hub [--db URL] app add NAME | app revoke APP_ID | app token APP_ID [--grace-hours 24]
    kiosk-hub [--db URL] tech add TECH_ID NAME (PIN on stdin) | tech remove TECH_ID
    kiosk-hub [--db URL] import-hours FILE.csv [--rate 10]
    kiosk-hub [--db URL] balance VOLUNTEER_ID
    kiosk-hub [--db URL] code issue VOLUNTEER_ID [--kind app|card]
    kiosk-hub [--db URL] cards VOLUNTEER_ID... --out sheet.pdf   (prints each card's id)
    kiosk-hub [--db URL] revoke-card CARD_ID
    kiosk-hub [--db URL] key rotate
    kiosk-hub [--db URL] quarantine [--limit N]   (events the hub refused, newest first)

``--db`` defaults to ``$HUB_DATABASE_URL`` or a SQLite file in the user data directory;
every setting has such a variable (``hub/settings.py``). The commands that sign (``init``,
``serve``, ``code``, ``cards``, ``key``) need the key-encryption key (``hub/kek.py``): the
first of them on a new database makes its key file; without it, a database whose keys are
sealed is refused in one line (exit 2). Each command prints JSON (``code issue`` prints
the code) and exits 0, 1 when a named volunteer or kiosk is unknown, 2 on bad arguments.
``import-hours`` exits 1 when it refused some rows (the others went in; stderr has a
one-line summary) and 2 when it applied nothing (an unreadable file, or the database
refused it).
``$HUB_MAX_EVENT_AMOUNT`` caps the 益币 one pushed event may move (default 10,000).
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.engine import make_url

from protocol.codes import CodeKind, card_id

from .console import commands as console_commands
from .console import store as console_store
from .db import migrate, open_engine
from .ingest import EventLimits
from .kek import KekError
from .service import TOKEN_GRACE_S, Hub, UnknownClient, UnknownVolunteer
from .settings import Settings, SettingsError, positive


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
    for role, commands in (("kiosk", kiosk), ("app", app)):
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
    imp = sub.add_parser("import-hours", help="credit certified hours from the platform's CSV")
    imp.add_argument("file", type=Path)
    imp.add_argument("--rate", type=int, default=10, help="益币 per hour (default 10)")
    bal = sub.add_parser("balance", help="a volunteer's balance")
    bal.add_argument("volunteer_id")
    code = sub.add_parser("code", help="volunteer codes").add_subparsers(dest="code_command", required=True)
    issue = code.add_parser("issue", help="sign a code for a volunteer")
    issue.add_argument("volunteer_id")
    issue.add_argument("--kind", choices=["app", "card"], default="app")
    cards = sub.add_parser("cards", help="print a sheet of volunteer cards (PNG or PDF)")
    cards.add_argument("volunteer_ids", nargs="+", metavar="VOLUNTEER_ID")
    cards.add_argument("--out", type=Path, required=True, help="sheet.pdf or sheet.png")
    key = sub.add_parser("key", help="signing keys").add_subparsers(dest="key_command", required=True)
    key.add_parser("rotate", help="a new signing key; the previous one stays live until the next rotation")
    revoke = sub.add_parser("revoke-card", help="a lost card stops working at every kiosk's next sync")
    revoke.add_argument("card_id", help="the card's id, as `cards` printed it")
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


SIGNS = {"init", "serve", "code", "cards", "key"}
"""Commands that need the key-encryption key (they sign, or serve what signs)."""


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


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    missing = missing_libraries(ns.command)
    if missing:  # before anything is created
        print(
            f"kiosk-hub {ns.command}: the hub's libraries are not installed ({', '.join(missing)}); "
            "install them with: pip install -c constraints.txt -e '.[hub]'",
            file=sys.stderr,
        )
        return 2
    try:
        settings = settings_from(ns)
        limits = EventLimits.from_env()
    except (SettingsError, ValueError) as exc:
        print(f"kiosk-hub: {exc}", file=sys.stderr)
        return 2
    engine = open_engine(settings.database_url)
    try:
        migrate(engine)
        hub = Hub(engine, limits=limits)
        if ns.command in SIGNS:
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
                        "database": make_url(settings.database_url).render_as_string(hide_password=True),
                        "key": hub.kek.where if hub.kek else None,
                        "keys": [k["kid"] for k in hub.jwks()["keys"]],
                    }
                )
            )
            return 0
        if ns.command == "serve":
            import uvicorn

            from .app import create_api

            if ns.workers > 1:  # each worker process opens the database itself, settings from the environment
                engine.dispose()
                os.environ.update(settings.environ())
                uvicorn.run(
                    "hub.app:api_from_env",
                    factory=True,
                    host=ns.host,
                    port=ns.port,
                    workers=ns.workers,
                    log_level=ns.log_level,
                )
            else:
                uvicorn.run(
                    create_api(hub, settings.limits), host=ns.host, port=ns.port, log_level=ns.log_level
                )
            return 0
        if ns.command in ("kiosk", "app") and getattr(ns, f"{ns.command}_command") in ("revoke", "token"):
            return credentials(hub, ns)
        if ns.command == "app":
            try:
                print(json.dumps(hub.add_kiosk(ns.name, role="app")))
            except ValueError as exc:
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            return 0
        if ns.command == "kiosk" and ns.kiosk_command == "list":
            print(json.dumps(hub.kiosks(), ensure_ascii=False))
            return 0
        if ns.command == "tech":
            try:
                if ns.tech_command == "add":
                    pin = getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
                    hub.set_technician(ns.tech_id, ns.name, pin)
                else:
                    hub.remove_technician(ns.tech_id)
            except (ValueError, LookupError) as exc:
                print(f"kiosk-hub: {str(exc).strip(chr(39))}", file=sys.stderr)
                return 2
            print(json.dumps({"technician": ns.tech_id, "active": ns.tech_command == "add"}))
            return 0
        if ns.command in ("org", "staff", "report"):
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
            try:
                data = ns.file.read_bytes()
            except OSError as exc:
                print(f"kiosk-hub: cannot read {ns.file}: {exc.strerror}", file=sys.stderr)
                return 2
            try:
                report = hub.import_hours(data, ns.rate, show_progress if sys.stderr.isatty() else None)
            except ValueError as exc:  # a bad rate, an unreadable file, the database refused it
                print(f"kiosk-hub: {ns.file}: {exc}", file=sys.stderr)
                return 2
            print(json.dumps(report.as_json(), ensure_ascii=False))
            if report.errors:  # the good rows went in; the refused ones are listed above
                print(f"kiosk-hub: {ns.file}: {report.summary()}", file=sys.stderr)
                return 1
            return 0
        if ns.command == "cards":
            from .cards import Card, write

            try:
                made = [
                    Card(vid, hub.volunteer_name(vid), hub.issue_code(vid, CodeKind.CARD))
                    for vid in ns.volunteer_ids
                ]
                pages = write(made, ns.out)
            except UnknownVolunteer as exc:
                print(f"kiosk-hub: no volunteer {exc}", file=sys.stderr)
                return 1
            except ValueError as exc:
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            ids = [{"volunteer_id": c.volunteer_id, "card_id": card_id(c.code)} for c in made]
            print(
                json.dumps(
                    {"cards": len(made), "pages": pages, "file": str(ns.out), "card_ids": ids},
                    ensure_ascii=False,
                )
            )
            return 0
        if ns.command == "key":
            kid = hub.rotate_key()
            print(json.dumps({"kid": kid, "live": [k["kid"] for k in hub.jwks()["keys"]]}))
            return 0
        if ns.command == "quarantine":
            print(json.dumps(hub.quarantined(max(1, ns.limit)), ensure_ascii=False))
            return 0
        if ns.command == "revoke-card":
            hub.revoke_card(ns.card_id)
            print(json.dumps({"revoked": ns.card_id}))
            return 0
        try:
            if ns.command == "balance":
                print(json.dumps(hub.balance(ns.volunteer_id)))
            else:
                print(hub.issue_code(ns.volunteer_id, CodeKind(ns.kind)))
        except UnknownVolunteer:
            print(f"kiosk-hub: no volunteer {ns.volunteer_id}", file=sys.stderr)
            return 1
        return 0
    finally:
        engine.dispose()


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
