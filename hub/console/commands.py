"""The console's command-line side: ``kiosk-hub org``, ``staff``, ``kiosk place`` and
``report redemptions``, for the office's first setup and for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from ..service import Hub, UnknownClient
from . import store
from .reports import csv_export, write_xlsx
from .rules import CITY_TZ, Level, Role, Scope, scope_of
from .words import N_, say


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    org = sub.add_parser("org", help="districts, streets and communities").add_subparsers(
        dest="org_command", required=True
    )
    add = org.add_parser("add", help="add a district (区), street (街道) or community (社区)")
    add.add_argument("name")
    add.add_argument("--level", required=True, choices=[lv.value for lv in Level])
    add.add_argument("--in", dest="parent", help="the org it sits under, as 区/街道 (a district: none)")
    org.add_parser("list", help="the tree, with how many kiosks stand in each")
    staff = sub.add_parser("staff", help="people who sign in to the console").add_subparsers(
        dest="staff_command", required=True
    )
    sadd = staff.add_parser("add", help="add a person or change their role and password (read from stdin)")
    sadd.add_argument("name")
    sadd.add_argument("--role", required=True, choices=[r.value for r in Role])
    sadd.add_argument("--in", dest="org", help="the org whose kiosks they see (none: the whole city)")
    report = sub.add_parser("report", help="reports as CSV or XLSX").add_subparsers(
        dest="report_command", required=True
    )
    red = report.add_parser("redemptions", help="every redemption in a date range (days on the city's clock)")
    red.add_argument("--from", dest="start", required=True, type=dt.date.fromisoformat, help="2026-11-01")
    red.add_argument("--to", dest="end", required=True, type=dt.date.fromisoformat, help="inclusive")
    red.add_argument("--in", dest="org", help="only the kiosks in this org")
    red.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    red.add_argument("--lang", choices=["zh", "en"], default="zh", help="the header's language")
    red.add_argument("--out", type=Path, required=True)
    add_alert_parser(sub)
    th = sub.add_parser(
        "threshold", help="when a lane counts as low (alerts, the fleet page)"
    ).add_subparsers(dest="threshold_command", required=True)
    tset = th.add_parser(
        "set", help="at or below AT items: a kiosk's lane, a kiosk's item, or an item everywhere"
    )
    tset.add_argument("--at", type=int, required=True)
    tset.add_argument("--kiosk", help="the kiosk's name (none: every kiosk, for an item)")
    what = tset.add_mutually_exclusive_group(required=True)
    what.add_argument("--lane", type=int)
    what.add_argument("--item", help="the item's name as the kiosks show it")
    th.add_parser("list", help="every threshold, as JSON")
    tclear = th.add_parser("clear", help="remove one (its id from list)")
    tclear.add_argument("threshold_id", type=int)
    vol = sub.add_parser("volunteer", help="where a volunteer belongs, for the honour roll").add_subparsers(
        dest="volunteer_command", required=True
    )
    vplace = vol.add_parser("place", help="the community (or street) whose honour roll they are on")
    vplace.add_argument("volunteer_id")
    where = vplace.add_mutually_exclusive_group(required=True)
    where.add_argument("--in", dest="org", help="as 区/街道/社区")
    where.add_argument("--nowhere", action="store_true", help="on no honour roll's place")
    vrank = vol.add_parser("rank", help="on the honour roll or not (a volunteer may opt out)")
    vrank.add_argument("volunteer_id")
    onoff = vrank.add_mutually_exclusive_group(required=True)
    onoff.add_argument("--on", dest="ranked", action="store_true")
    onoff.add_argument("--off", dest="ranked", action="store_false")


def add_alert_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    al = sub.add_parser("alerts", help="look at the kiosks now: open and close alerts, print the open ones")
    al.add_argument("--deliver", action="store_true", help="also send the due ones to $HUB_ALERT_WEBHOOK")
    al.add_argument("--lang", choices=["zh", "en"], default="zh")


def place_option(kiosk_add: argparse.ArgumentParser) -> None:
    kiosk_add.add_argument("--in", dest="org", help="the org it stands in, as 区/街道/社区")


def run(hub: Hub, ns: argparse.Namespace) -> int:
    try:
        if ns.command == "org":
            if ns.org_command == "add":
                node = store.add_org(hub, ns.name, Level(ns.level), ns.parent)
                print(
                    json.dumps(
                        {"org": node.id, "name": node.name, "level": node.level.value}, ensure_ascii=False
                    )
                )
            else:
                print(json.dumps(store.org_tree(hub), ensure_ascii=False))
            return 0
        if ns.command == "staff":
            password = (
                getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
            )
            print(
                json.dumps(store.add_staff(hub, ns.name, Role(ns.role), ns.org, password), ensure_ascii=False)
            )
            return 0
        if ns.command == "report":
            return report(hub, ns)
        if ns.command == "threshold":
            return thresholds(hub, ns)
        if ns.command == "volunteer":
            if ns.volunteer_command == "place":
                found = store.place_volunteer(
                    hub, "kiosk-hub", ns.volunteer_id, None if ns.nowhere else ns.org
                )
            else:
                found = store.rank_volunteer(hub, "kiosk-hub", ns.volunteer_id, ns.ranked)
            print(json.dumps(found, ensure_ascii=False))
            return 0
        if ns.command == "alerts":
            return alerts_now(hub, ns)
    except store.ConsoleError as exc:  # the catalogue's sentence, in English on the command line
        print(f"kiosk-hub: {say(str(exc), 'en')}", file=sys.stderr)
        return 2
    except UnknownClient as exc:
        print(f"kiosk-hub: no kiosk {exc}", file=sys.stderr)
        return 1
    raise AssertionError(ns.command)


CITY = store.Who(0, "kiosk-hub", Role.ADMIN, None, Scope(None), "")
"""The command line acts for the whole city."""


def thresholds(hub: Hub, ns: argparse.Namespace) -> int:
    if ns.threshold_command == "list":
        print(json.dumps(store.threshold_rows(hub, CITY), ensure_ascii=False))
        return 0
    if ns.threshold_command == "clear":
        store.clear_threshold(hub, CITY, ns.threshold_id)
        print(json.dumps({"cleared": ns.threshold_id}))
        return 0
    kiosk_id = None
    if ns.kiosk:
        named = {name: kid for kid, name in store.kiosks_in(hub, Scope(None)).items()}
        if ns.kiosk.strip() not in named:
            raise store.ConsoleError(N_("没有这台自助机，或您无权查看"))
        kiosk_id = named[ns.kiosk.strip()]
    store.set_threshold(hub, CITY, kiosk_id, ns.lane, ns.item, ns.at)
    print(
        json.dumps(
            {"kiosk": ns.kiosk or "", "lane": ns.lane, "item": ns.item, "at": ns.at}, ensure_ascii=False
        )
    )
    return 0


def report(hub: Hub, ns: argparse.Namespace) -> int:
    if ns.end < ns.start:
        print("kiosk-hub: --to is before --from", file=sys.stderr)
        return 2
    scope = Scope(None)
    if ns.org:
        scope = scope_of(store.find_org(hub, ns.org).id, store.orgs(hub))
    kiosks = store.kiosks_in(hub, scope) if scope.orgs is not None else None

    def moment(day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time(), CITY_TZ).timestamp())

    f = store.RedemptionFilter(moment(ns.start), moment(ns.end + dt.timedelta(days=1)))
    written = 0

    def rows() -> Iterator[store.Redemption]:
        nonlocal written
        for row in store.redemption_rows(hub, f, kiosks):
            written += 1
            if written % 100_000 == 0 and sys.stderr.isatty():
                print(f"\rreport: {written} redemptions", end="", file=sys.stderr, flush=True)
            yield row

    tmp = ns.out.with_name(ns.out.name + ".part")  # a report is whole or absent
    try:
        if ns.format == "xlsx":
            write_xlsx(rows(), ns.lang, tmp)
        else:
            written = store.count_redemptions(hub, f, kiosks)
            with tmp.open("wb") as out:
                for chunk in csv_export(hub, f, kiosks, ns.lang):
                    out.write(chunk)
        tmp.replace(ns.out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        print(f"kiosk-hub: cannot write {ns.out}: {exc.strerror}", file=sys.stderr)
        return 2
    if written >= 100_000 and sys.stderr.isatty():
        print(file=sys.stderr)
    print(json.dumps({"redemptions": written, "file": str(ns.out)}, ensure_ascii=False))
    return 0


def alerts_now(hub: Hub, ns: argparse.Namespace) -> int:
    """``kiosk-hub alerts``: one round of the server's alert loop, then the open alerts."""
    from . import alerts

    opened, closed = alerts.refresh(hub, alerts.AlertRules.from_env())
    sent = 0
    if ns.deliver:
        hook = alerts.Webhook.from_env()
        if hook is None:
            print("kiosk-hub: --deliver needs HUB_ALERT_WEBHOOK (the office's webhook URL)", file=sys.stderr)
            return 2
        sent = alerts.deliver(hub, hook)
    shown = alerts.shown(hub, Scope(None), ns.lang)
    print(
        json.dumps(
            {"opened": opened, "closed": closed, "sent": sent, "open": shown["open"]}, ensure_ascii=False
        )
    )
    return 0


def check_alert_env() -> None:
    """The alerts' settings from the environment, or ValueError naming the bad one."""
    from . import alerts

    alerts.AlertRules.from_env()
    alerts.Webhook.from_env()
    alerts.interval_from_env()
