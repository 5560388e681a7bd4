"""Alerts: what at a kiosk (or in the ledger) a person should see to, and the office's webhook.

The rules are plain functions: :func:`conditions` turns the fleet as the kiosks last
reported it (``rules.FleetRow``) and the overdrafts the hub flagged into the conditions
that hold now. :func:`refresh` (the store's side) opens an alert for each new condition,
closes each whose condition went away, and queues the due ones for the webhook;
:func:`deliver` sends them, trying again after a growing pause. ``kiosk-hub serve`` runs
both every minute; ``kiosk-hub alerts`` runs them once and prints the open alerts.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update

from ..models import Alert, AlertDelivery, Volunteer
from ..service import Hub
from . import store
from .rules import FleetRow, Scope
from .words import N_, say

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRules:
    """Thresholds (``HUB_ALERT_*`` in the environment)."""

    low_stock_at: int = 2
    """A lane at or below this many items."""
    offline_after_min: int = 30
    """A kiosk silent for longer."""
    doubt_grace_h: int = 24
    """A dispense in doubt still unsettled after this long."""
    trust_share: int = 80
    """A kiosk's trust list this many percent of its maximum age old (then it takes no codes)."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AlertRules:
        import os

        env = os.environ if environ is None else environ
        base = cls()
        values = {}
        for field, name in (
            ("low_stock_at", "HUB_ALERT_LOW_STOCK"),
            ("offline_after_min", "HUB_ALERT_OFFLINE_MIN"),
            ("doubt_grace_h", "HUB_ALERT_DOUBT_HOURS"),
            ("trust_share", "HUB_ALERT_TRUST_SHARE"),
        ):
            text = env.get(name)
            if text is None:
                values[field] = getattr(base, field)
            elif text.strip().isdigit():
                values[field] = int(text)
            else:
                raise ValueError(f"{name}={text!r}: a whole number is wanted")
        return cls(**values)


@dataclass(frozen=True)
class Condition:
    """One thing that holds now: at which kiosk (None: the hub's own), what, about what."""

    kiosk_id: str | None
    kind: str
    subject: str
    detail: dict[str, Any]
    grace_s: int = 0
    """How long it must hold before it is shown and sent."""

    @property
    def key(self) -> tuple[str | None, str, str]:
        return (self.kiosk_id, self.kind, self.subject)


SENTENCES = {
    "low_stock": N_("{kiosk}：{lane} 号货道（{item}）只剩 {stock} 件"),
    "lane_fault": N_("{kiosk}：{lane} 号货道（{item}）故障：{fault}"),
    "lane_disabled": N_("{kiosk}：{lane} 号货道（{item}）已停用"),
    "offline": N_("{kiosk}：已 {minutes} 分钟没有联系中心"),
    "in_doubt": N_("{kiosk}：有 {n} 笔出货待核实，超过 {hours} 小时未处理"),
    "overdraft": N_("志愿者 {volunteer} 的余额为负，请核对"),
    "trust_stale": N_("{kiosk}：信任名单已 {days} 天未更新，满 {max_days} 天后将停止接受扫码"),
}
"""What each kind of alert says, in the catalogue (Chinese; English on the English pages)."""


def conditions(
    fleet: Sequence[FleetRow], overdrafts: Iterable[tuple[str, str]], rules: AlertRules, now: int
) -> list[Condition]:
    found: list[Condition] = []
    for k in fleet:
        if k.revoked:
            continue
        if k.since is None or now - k.since > rules.offline_after_min * 60:
            minutes = (now - k.since) // 60 if k.since is not None else None
            found.append(Condition(k.kiosk_id, "offline", "", {"kiosk": k.name, "minutes": minutes}))
        synced, most = k.trust_synced_at, k.trust_max_age_s
        if synced is not None and most and (now - synced) * 100 >= most * rules.trust_share:
            detail = {"kiosk": k.name, "days": (now - synced) // 86400, "max_days": most // 86400}
            found.append(Condition(k.kiosk_id, "trust_stale", "", detail))
        if k.in_doubt:
            detail = {"kiosk": k.name, "n": k.in_doubt, "hours": rules.doubt_grace_h}
            found.append(Condition(k.kiosk_id, "in_doubt", "", detail, rules.doubt_grace_h * 3600))
        for lane in k.lanes:
            about = {"kiosk": k.name, "lane": lane.lane, "item": lane.item or "—"}
            if lane.fault == "disabled":
                found.append(Condition(k.kiosk_id, "lane_disabled", str(lane.lane), about))
            elif lane.fault:
                found.append(
                    Condition(k.kiosk_id, "lane_fault", str(lane.lane), about | {"fault": lane.fault})
                )
            elif lane.low:  # at or below its threshold (``rules.Thresholds``)
                found.append(
                    Condition(k.kiosk_id, "low_stock", str(lane.lane), about | {"stock": lane.stock})
                )
    for volunteer_id, name in overdrafts:
        found.append(Condition(None, "overdraft", volunteer_id, {"volunteer": f"{name} ({volunteer_id})"}))
    return found


def sentence(kind: str, detail: dict[str, Any], lang: str) -> str:
    if kind == "offline" and detail.get("minutes") is None:
        return say("{kiosk}：从未联系中心", lang, kiosk=detail["kiosk"])
    return say(SENTENCES[kind], lang, **detail)


# --- the store's side ---------------------------------------------------------------------


def refresh(hub: Hub, rules: AlertRules) -> tuple[int, int]:
    """Open what newly holds, close what no longer does, queue what came due; (opened, closed)."""
    now = int(hub.clock())
    fleet = store.fleet(hub, Scope(None), rules.low_stock_at)
    with hub.reading() as s:
        overdrafts = [(v.id, v.name) for v in s.scalars(select(Volunteer).where(Volunteer.flagged))]
    holding = {c.key: c for c in conditions(fleet, overdrafts, rules, now)}
    opened = closed = 0
    with hub.unit() as s:
        if s.get_bind().dialect.name == "postgresql":  # one refresh at a time across workers
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALERTS_LOCK})
        open_now = {
            (a.kiosk_id, a.kind, a.subject): a
            for a in s.scalars(select(Alert).where(Alert.closed_at.is_(None)))
        }
        for key, alert in open_now.items():
            if key not in holding:
                alert.closed_at = now
                closed += 1
            else:
                alert.detail = json.dumps(holding[key].detail, ensure_ascii=False)
        for key, c in holding.items():
            if key not in open_now:
                s.add(
                    Alert(
                        kiosk_id=c.kiosk_id,
                        kind=c.kind,
                        subject=c.subject,
                        detail=json.dumps(c.detail, ensure_ascii=False),
                        opened_at=now,
                        due_at=now + c.grace_s,
                    )
                )
                opened += 1
        s.flush()
        queued = set(s.scalars(select(AlertDelivery.alert_id)))
        for alert in s.scalars(select(Alert).where(Alert.closed_at.is_(None), Alert.due_at <= now)):
            if alert.id not in queued:
                s.add(AlertDelivery(alert_id=alert.id, attempts=0, next_at=now))
    if opened or closed:
        log.info("alerts: %d opened, %d closed", opened, closed)
    return opened, closed


@dataclass(frozen=True)
class Webhook:
    """Where the office hears of alerts: a URL (``HUB_ALERT_WEBHOOK``) and the body's shape
    (``HUB_ALERT_WEBHOOK_FORMAT``: ``json``, or ``wecom``/``dingtalk`` for a group bot)."""

    url: str
    shape: str = "json"

    @classmethod
    def from_env(cls) -> Webhook | None:
        import os

        url = os.environ.get("HUB_ALERT_WEBHOOK", "").strip()
        if not url:
            return None
        shape = os.environ.get("HUB_ALERT_WEBHOOK_FORMAT", "json").strip()
        if shape not in SHAPES:
            raise ValueError(f"HUB_ALERT_WEBHOOK_FORMAT={shape!r}: one of {', '.join(SHAPES)}")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"HUB_ALERT_WEBHOOK={url!r}: an http:// or https:// address is wanted")
        return cls(url, shape)

    def body(self, alert: Alert) -> dict[str, Any]:
        detail = json.loads(alert.detail)
        text = "【时间银行】" + sentence(alert.kind, detail, "zh")
        if self.shape in ("wecom", "dingtalk"):  # both group bots take a text message so
            return {"msgtype": "text", "text": {"content": text}}
        return {
            "alert": alert.id,
            "kind": alert.kind,
            "kiosk_id": alert.kiosk_id,
            "subject": alert.subject,
            "opened_at": alert.opened_at,
            "text": text,
            "detail": detail,
        }


SHAPES = ("json", "wecom", "dingtalk")
CLAIM_S = 120
"""A claimed delivery's next try, should its sender die before it records the outcome."""
ALERTS_LOCK = 0x7A1B_0002  # pg_advisory_xact_lock key of the alerts' refresh
MAX_ATTEMPTS = 10


def retry_after(attempts: int) -> int:
    """30 s, 1 min, 2 min … at most an hour between tries."""
    return int(min(3600, 30 * 2 ** max(0, attempts - 1)))


def deliver(hub: Hub, hook: Webhook, timeout_s: float = 10.0) -> int:
    """Send each queued alert that is due; how many went. A failure is tried again later;
    after :data:`MAX_ATTEMPTS` it is given up (and stays on the console's page)."""
    now = int(hub.clock())
    with hub.reading() as s:
        due = list(
            s.execute(
                select(AlertDelivery, Alert)
                .join(Alert, Alert.id == AlertDelivery.alert_id)
                .where(
                    AlertDelivery.delivered_at.is_(None),
                    AlertDelivery.failed_at.is_(None),
                    AlertDelivery.next_at <= now,
                )
                .order_by(AlertDelivery.id)
            )
        )
    sent = 0
    for delivery, alert in due:
        if not claim(hub, delivery.id, now):  # another worker is sending it
            continue
        error = post(hook.url, hook.body(alert), timeout_s)
        with hub.unit() as s:
            row = s.get(AlertDelivery, delivery.id)
            assert row is not None
            row.attempts += 1
            if error is None:
                row.delivered_at = now
                sent += 1
            else:
                row.last_error = error[:200]
                row.next_at = now + retry_after(row.attempts)
                if row.attempts >= MAX_ATTEMPTS:
                    row.failed_at = now
                log.warning("alert %d: the webhook refused it (%s); try %d", alert.id, error, row.attempts)
    return sent


def claim(hub: Hub, delivery_id: int, now: int) -> bool:
    """Take a due delivery for this process: its next try moves out of every other's reach."""
    with hub.unit() as s:
        taken = s.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery_id,
                AlertDelivery.next_at <= now,
                AlertDelivery.delivered_at.is_(None),
            )
            .values(next_at=now + CLAIM_S)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def post(url: str, body: dict[str, Any], timeout_s: float) -> str | None:
    """POST the JSON; None when the other side took it (2xx), else why not in a few words."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            answer.read(1024)
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, "reason", exc))


def shown(hub: Hub, scope: Scope, lang: str, closed_days: int = 7) -> dict[str, list[dict[str, Any]]]:
    """The due open alerts (and those closed in the last days) a person's scope sees."""
    now = int(hub.clock())
    kiosks = store.kiosks_in(hub, scope)
    with hub.reading() as s:
        rows = list(
            s.scalars(
                select(Alert)
                .where((Alert.closed_at.is_(None)) | (Alert.closed_at > now - closed_days * 86400))
                .order_by(Alert.opened_at.desc(), Alert.id.desc())
            )
        )
    out: dict[str, list[dict[str, Any]]] = {"open": [], "closed": []}
    for a in rows:
        visible = a.kiosk_id in kiosks if a.kiosk_id is not None else scope.orgs is None
        if not visible or (a.closed_at is None and a.due_at > now):
            continue
        item = {
            "id": a.id,
            "text": sentence(a.kind, json.loads(a.detail), lang),
            "kind": a.kind,
            "opened_at": a.opened_at,
            "seen_at": a.seen_at,
            "seen_by": a.seen_by,
            "closed_at": a.closed_at,
        }
        out["open" if a.closed_at is None else "closed"].append(item)
    return out


def mark_seen(hub: Hub, who: store.Who, alert_id: int) -> bool:
    """Record that this person saw the alert; False when it is not theirs to see."""
    kiosks = store.kiosks_in(hub, who.scope)
    with hub.unit() as s:
        alert = s.get(Alert, alert_id)
        if alert is None:
            return False
        visible = alert.kiosk_id in kiosks if alert.kiosk_id is not None else who.scope.orgs is None
        if not visible:
            return False
        if alert.seen_at is None:
            alert.seen_at, alert.seen_by = int(hub.clock()), who.name
            store.audit(s, hub, who.name, "alert_seen", f"alert:{alert_id}")
        return True


class AlertLoop:
    """``refresh`` and ``deliver`` every ``every_s`` seconds on a thread of the hub's server
    (started and stopped with it); a failure is logged and tried again next time."""

    def __init__(self, hub: Hub, rules: AlertRules, hook: Webhook | None, every_s: float) -> None:
        self.hub, self.rules, self.hook, self.every_s = hub, rules, hook, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def once(self) -> None:
        refresh(self.hub, self.rules)
        if self.hook is not None:
            deliver(self.hub, self.hook)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.once()
            except Exception:  # the next round tries again; the server goes on
                log.exception("alerts: a round failed")


def interval_from_env() -> float:
    """``HUB_ALERT_INTERVAL_S``: seconds between rounds (default 60; 0 turns the loop off)."""
    import os

    text = os.environ.get("HUB_ALERT_INTERVAL_S", "60").strip()
    try:
        every = float(text)
    except ValueError:
        every = -1.0
    if not every >= 0:
        raise ValueError(f"HUB_ALERT_INTERVAL_S={text!r}: seconds (0 or more) are wanted")
    return every


def loop_from_env(hub: Hub) -> AlertLoop | None:
    """The server's alert loop as the environment sets it; raises ValueError naming a bad
    variable."""
    every = interval_from_env()
    if every == 0:
        return None
    return AlertLoop(hub, AlertRules.from_env(), Webhook.from_env(), every)
