"""The ``kiosk-hub`` command: serve the hub, register kiosks, import hours, issue codes.

    kiosk-hub [--db URL] serve [--host H] [--port P] [--workers N]
    kiosk-hub [--db URL] kiosk add NAME | kiosk list
    kiosk-hub [--db URL] app add NAME   (a token for the volunteer app's server)
    kiosk-hub [--db URL] tech add TECH_ID NAME (PIN on stdin) | tech remove TECH_ID
    kiosk-hub [--db URL] import-hours FILE.csv [--rate 10]
    kiosk-hub [--db URL] balance VOLUNTEER_ID
    kiosk-hub [--db URL] code issue VOLUNTEER_ID [--kind app|card]
    kiosk-hub [--db URL] cards VOLUNTEER_ID... --out sheet.pdf   (prints each card's id)
    kiosk-hub [--db URL] revoke-card CARD_ID
    kiosk-hub [--db URL] key rotate
    kiosk-hub [--db URL] quarantine [--limit N]   (events the hub refused, newest first)

``--db`` defaults to ``$HUB_DATABASE_URL`` or a SQLite file in the user data directory;
``$HUB_MAX_EVENT_AMOUNT`` caps the 益币 one pushed event may move (default 10,000).
Each command prints JSON (``code issue`` prints the code) and exits 0, 1 when a named
volunteer or kiosk is unknown, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from protocol.codes import CodeKind, card_id

from .db import default_url, migrate, open_engine
from .ingest import Limits
from .service import Hub, UnknownVolunteer


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kiosk-hub", description="The time bank's hub")
    ap.add_argument("--db", default=os.environ.get("HUB_DATABASE_URL") or default_url(), help="database URL")
    sub = ap.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (one per core)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    kiosk = sub.add_parser("kiosk", help="kiosks").add_subparsers(dest="kiosk_command", required=True)
    add = kiosk.add_parser("add", help="register a kiosk and print its token once")
    add.add_argument("name")
    kiosk.add_parser("list", help="kiosks with their latest status report")
    app = sub.add_parser("app", help="the volunteer app's server").add_subparsers(
        dest="app_command", required=True
    )
    app.add_parser("add", help="a token for the app's server to ask for codes with").add_argument("name")
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
    held = sub.add_parser("quarantine", help="events kiosks pushed that the hub refused, with the reason")
    held.add_argument("--limit", type=int, default=100, help="newest first, at most this many (default 100)")
    return ap


NEEDS = {"serve": ("fastapi", "uvicorn"), "cards": ("PIL",)}
"""Libraries of the ``hub`` extra each command needs (a kiosk's own install has none of them)."""


def missing_libraries(command: str) -> list[str]:
    return [name for name in NEEDS.get(command, ()) if importlib.util.find_spec(name) is None]


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
        limits = Limits.from_env()
    except ValueError as exc:
        print(f"kiosk-hub: {exc}", file=sys.stderr)
        return 2
    engine = open_engine(ns.db)
    try:
        migrate(engine)
        hub = Hub(engine, limits=limits)
        if ns.command == "serve":
            import uvicorn

            from .app import create_api

            if ns.workers > 1:  # each worker process opens the database itself
                engine.dispose()
                os.environ["HUB_DATABASE_URL"] = ns.db
                uvicorn.run(
                    "hub.app:api_from_env",
                    factory=True,
                    host=ns.host,
                    port=ns.port,
                    workers=ns.workers,
                    log_level=ns.log_level,
                )
            else:
                uvicorn.run(create_api(hub), host=ns.host, port=ns.port, log_level=ns.log_level)
            return 0
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
        if ns.command == "kiosk":
            try:
                print(json.dumps(hub.add_kiosk(ns.name)))
            except ValueError as exc:
                print(f"kiosk-hub: {exc}", file=sys.stderr)
                return 2
            return 0
        if ns.command == "import-hours":
            try:
                data = ns.file.read_bytes()
            except OSError as exc:
                print(f"kiosk-hub: cannot read {ns.file}: {exc.strerror}", file=sys.stderr)
                return 2
            if ns.rate <= 0:
                print("kiosk-hub: --rate must be a positive whole number", file=sys.stderr)
                return 2
            print(json.dumps(hub.import_hours(data, ns.rate).as_json(), ensure_ascii=False))
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


if __name__ == "__main__":
    sys.exit(main())
