"""The kiosk's sync with the hub: push first, then pull (no Qt; runs on a worker).

Push sends the outbox (each charge's event, written in the charge's own transaction)
in batches and stores the hub sequence each event was applied at; a lost connection
mid-batch is safe because the hub applies each event id once. An event the hub refuses
(its acknowledgement says why) is not sent again: it is marked acknowledged at sequence
0 and written to the audit log for the technician (the hub keeps it in its quarantine). Pull pages through the
hub's changes since the stored cursor and stores each page with its cursor in one
transaction. Both directions go through the shared contract (``protocol.sync``): every
push is built and validated with its models before it is sent, every reply and page is
validated before anything is stored, and a malformed one fails the sync like a lost
connection. A failed sync leaves everything as it was, to be tried again; when the hub
said when (a 429's ``Retry-After``), not before then.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import logging
import math
import os
import random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocol.sync import PROTOCOL_VERSION, Ack, Event, PullPage, PushReply, PushRequest

from .core.records import RefusedEvent
from .core.sync_problems import SyncFailure, SyncProblem
from .services.store import Store

log = logging.getLogger(__name__)


class HubError(OSError):
    """The hub could not be reached, or refused the request: :attr:`problem` says why in words."""

    def __init__(self, problem: SyncProblem, retry_after_s: float | None = None) -> None:
        super().__init__(problem.sentence())
        self.problem = problem
        self.retry_after_s = retry_after_s
        """When the hub asked to be tried again (``Retry-After``), in seconds; None if it did not."""


class HubClient:
    def __init__(self, url: str, token: str, timeout_s: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    @property
    def address(self) -> str:
        """The hub's host and port, as a problem names it (never the token)."""
        return urllib.parse.urlsplit(self.url).netloc

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        return self._exchange(method, path, body)[0]

    def _exchange(self, method: str, path: str, body: bytes | None = None) -> tuple[bytes, float | None]:
        """The hub's answer and its clock (the ``Date`` header, Unix seconds; None without one)."""
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return bytes(response.read()), http_date(response.headers.get("Date"))
        except urllib.error.HTTPError as exc:
            retry = retry_after(exc.headers.get("Retry-After")) if exc.headers else None
            raise HubError(answered(exc.code, path, _detail(exc), retry), retry) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise HubError(describe(exc, self.address, self.timeout_s)) from exc

    def push(self, events: Sequence[Mapping[str, Any] | Event]) -> list[Ack]:
        """Send events (validated here first: a malformed one never leaves the kiosk)."""
        try:
            body = PushRequest.model_validate({"protocol": PROTOCOL_VERSION, "events": list(events)})
        except ValidationError as exc:
            raise ValueError(f"an event the hub would refuse: {exc}") from exc
        wire = body.model_dump_json(exclude_unset=True).encode()
        try:
            return PushReply.model_validate_json(self._call("POST", "/v1/sync/push", wire)).acks
        except ValidationError as exc:
            raise HubError(SyncProblem(SyncFailure.MALFORMED, f"push reply: {_first_errors(exc)}")) from exc

    def probe(self) -> tuple[PullPage, float | None]:
        """An authenticated request that changes nothing (a pull of one volunteer from the
        start): the page, whose ``kiosk_id`` says whose token it was, and the hub's clock."""
        body, clock = self._exchange("GET", "/v1/sync/pull?cursor=0&limit=1")
        try:
            return PullPage.model_validate_json(body), clock
        except ValidationError as exc:
            raise HubError(SyncProblem(SyncFailure.MALFORMED, f"pull page: {_first_errors(exc)}")) from exc

    def picture(self, sha256: str) -> bytes:
        """An item's picture from the hub's catalogue, checked against the name it is asked by."""
        data = self._call("GET", f"/v1/catalogue/pictures/{sha256}")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise HubError(SyncProblem(SyncFailure.MALFORMED, f"picture {sha256[:12]}… is not the one named"))
        return data

    def pull(
        self, cursor: int, limit: int, pins_cursor: int | None = None, honour_stamp: str | None = None
    ) -> PullPage:
        """A page from ``cursor``, with the card PINs changed since ``pins_cursor`` (protocol 4)
        and the honour roll unless it is still the one ``honour_stamp`` names (protocol 5)."""
        asked: dict[str, int | str] = {"cursor": cursor, "limit": limit}
        if pins_cursor is not None:
            asked["pins_cursor"] = pins_cursor
        if honour_stamp:
            asked["honour_stamp"] = honour_stamp
        query = urllib.parse.urlencode(asked)
        try:
            return PullPage.model_validate_json(self._call("GET", f"/v1/sync/pull?{query}"))
        except ValidationError as exc:
            raise HubError(SyncProblem(SyncFailure.MALFORMED, f"pull page: {_first_errors(exc)}")) from exc


def http_date(value: str | None) -> float | None:
    """An HTTP date (``Date``: ``Sun, 22 Nov 2026 08:00:00 GMT``) in Unix seconds, or None."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit() and value.isascii():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _detail(exc: urllib.error.HTTPError) -> str:
    """The hub's reason for a refusal (FastAPI's ``detail``), shortened."""
    try:
        detail = json.loads(exc.read()).get("detail")
    except (OSError, ValueError, AttributeError):
        return ""
    return json.dumps(detail, ensure_ascii=False)[:300] if detail else ""


def _first_errors(exc: ValidationError, most: int = 3) -> str:
    """A validation error on one line: where and what, for the first few."""
    errors = exc.errors()
    said = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:most])
    return said + (f" (and {len(errors) - most} more)" if len(errors) > most else "")


def answered(status: int, path: str, detail: str = "", retry_after_s: float | None = None) -> SyncProblem:
    """What an HTTP error status from the hub means for the kiosk."""
    said = f"HTTP {status} to {path}" + (f": {detail}" if detail else "")
    if status in (401, 403):
        return SyncProblem(SyncFailure.TOKEN, said)
    if status == 429:
        wait = f", try again in {retry_after_s:.0f} s" if retry_after_s is not None else ""
        return SyncProblem(SyncFailure.BUSY, f"HTTP 429{wait}")
    if status >= 500:
        return SyncProblem(SyncFailure.HUB_FAULT, said)
    return SyncProblem(SyncFailure.REFUSED, said)


def _strerror(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def describe(exc: BaseException, address: str = "", timeout_s: float | None = None) -> SyncProblem:
    """Why a sync failed, from what it raised: the one place an exception becomes words.

    ``address`` (the hub's host and port) and ``timeout_s`` go into the detail. A
    ``urllib`` error is looked through to the socket's or TLS's own exception.
    """
    at = f" ({address})" if address else ""
    if isinstance(exc, HubError):
        return exc.problem
    if isinstance(exc, urllib.error.HTTPError):
        return answered(exc.code, urllib.parse.urlsplit(exc.url or "").path)
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, BaseException):
            return describe(exc.reason, address, timeout_s)
        return SyncProblem(SyncFailure.UNREACHABLE, f"{exc.reason}{at}")
    if isinstance(exc, socket.gaierror):
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
        return SyncProblem(SyncFailure.NAME, f"{host}: {_strerror(exc)}" if host else _strerror(exc))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SyncProblem(SyncFailure.TLS, f"{exc.verify_message or exc.reason}{at}")
    if isinstance(exc, ssl.SSLError):
        return SyncProblem(SyncFailure.TLS, f"{exc.reason or _strerror(exc)}{at}")
    if isinstance(exc, TimeoutError):
        within = f"no answer within {timeout_s:g} s" if timeout_s else "timed out"
        return SyncProblem(SyncFailure.TIMEOUT, f"{within}{at}")
    if isinstance(exc, http.client.HTTPException):
        return SyncProblem(SyncFailure.UNREACHABLE, f"the connection broke off ({type(exc).__name__}){at}")
    if isinstance(exc, OSError):
        return SyncProblem(SyncFailure.UNREACHABLE, f"{_strerror(exc)}{at}")
    if isinstance(exc, ValidationError):
        return SyncProblem(SyncFailure.MALFORMED, _first_errors(exc))
    return SyncProblem(SyncFailure.UNREACHABLE, f"{type(exc).__name__}: {exc}{at}")


def picture_path(folder: Path, sha256: str) -> Path:
    """Where a hub picture is kept on the kiosk: named by its SHA-256, so it never changes."""
    return folder / f"{sha256}.png"


def stored_page(page: PullPage, pictures: Path | None = None) -> dict[str, Any]:
    """A validated page as :meth:`Store.apply_pull` stores it (rows are not copied); a
    catalogue item's picture becomes its image's path under ``pictures`` (fetched after)."""
    catalogue = None
    if page.catalogue is not None:
        catalogue = []
        for e in page.catalogue:
            entry = e.model_dump(exclude={"picture"})
            if e.picture and pictures is not None:
                entry["image"] = str(picture_path(pictures, e.picture))
            catalogue.append(entry)
    return {
        "cursor": page.cursor,
        "columns": list(page.columns),
        "volunteers": page.volunteers,
        "jwks": {"keys": page.jwks.keys},
        "revoked": page.revoked,
        "technicians": [t.model_dump() for t in page.technicians],
        "card_pins": page.card_pins,
        "catalogue": catalogue,
        "honour": None if page.honour is None else page.honour.model_dump(),
    }


def refusals(events: Sequence[Mapping[str, Any]], acks: Sequence[Ack]) -> list[RefusedEvent]:
    """The events the hub refused, each with its reason, from a batch and its acknowledgements."""
    found: list[RefusedEvent] = []
    for event, ack in zip(events, acks, strict=False):
        if ack.refused:
            log.warning("the hub refused event %s (%s): %s", ack.id, event.get("kind"), ack.refused)
            volunteer, amount = event.get("volunteer_id"), event.get("amount")
            found.append(RefusedEvent(ack.id, ack.refused, str(event.get("kind")), volunteer, amount))
    return found


@dataclass
class Backoff:
    """When to try again: the interval after a good sync; after failures, doubling, with jitter.

    A hub coming back after an outage is not met by every kiosk at the same second. A hub
    that said when to come back (``Retry-After``: it limits each kiosk's pushes) is tried
    again then, give or take a fifth, and not counted as failing: a backlog goes up at the
    pace the hub allows.
    """

    interval_s: float
    ceiling_s: float = 900.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def after(self, ok: bool, retry_after_s: float | None = None) -> float:
        if ok:
            self.failures = 0
            return self.interval_s
        if retry_after_s is not None:
            return float(min(retry_after_s, self.ceiling_s) * self.rng.uniform(1.0, 1.2))
        self.failures += 1
        delay = min(self.interval_s * 2 ** min(self.failures, 20), self.ceiling_s)
        return float(delay * self.rng.uniform(0.5, 1.0))


@dataclass(frozen=True)
class SyncReport:
    ok: bool
    pushed: int
    pulled: int
    problem: SyncProblem | None = None
    retry_after_s: float | None = None
    """When the hub asked to be tried again (a 429's ``Retry-After``)."""

    @property
    def error(self) -> str | None:
        """Why it failed, in both languages (None when it did not)."""
        return None if self.problem is None else self.problem.sentence()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "pushed": self.pushed, "pulled": self.pulled}
        if self.problem is not None:
            out["error"] = self.problem.sentence()
            out["problem"] = self.problem.kind.value
        if self.retry_after_s is not None:
            out["retry_after_s"] = self.retry_after_s
        return out


class Syncer:
    LAST_GOOD = "last_good_sync"
    KIOSK_ID = "hub_kiosk_id"
    """This kiosk's id at the hub, as its pull pages say (protocol 2); none before the first."""

    def __init__(
        self,
        repo: Store,
        client: HubClient,
        batch: int = 500,
        page: int = 5000,
        pictures: Path | None = None,
        trust_max_age_s: int | None = None,
    ) -> None:
        self.store = repo
        self.client = client
        self.batch = batch
        self.page = page
        self.pictures = pictures
        """Where the catalogue's pictures are kept (None: the kiosk shows drawn badges)."""
        self.trust_max_age_s = trust_max_age_s
        """The offline rules' limit, told to the hub in each status report (its alert)."""

    def push(self) -> int:
        """The outbox in batches, then this kiosk's status report (not counted as pushed).

        Redemptions name this kiosk when it knows its id; before its first pull it does
        not, and the hub takes it from the token.
        """
        pushed = 0
        kiosk_id = self.store.setting(self.KIOSK_ID)
        while events := self.store.pending_events(self.batch):
            if kiosk_id:
                events = [{**e, "kiosk_id": kiosk_id} if e["kind"] == "redemption" else e for e in events]
            try:
                acks = self.client.push(events)
            except ValueError as exc:  # the outbox holds an event the contract refuses
                raise HubError(SyncProblem(SyncFailure.OWN_EVENT, str(exc).splitlines()[0])) from exc
            self.store.ack_events({a.id: a.seq for a in acks}, refusals(events, acks))
            pushed += len(acks)
            if len(acks) < len(events):
                detail = f"{len(acks)} acknowledgements for {len(events)} events"
                raise HubError(SyncProblem(SyncFailure.MALFORMED, detail))
        status = {"id": str(uuid.uuid4()), "kind": "status", "at": int(self.store.clock())}
        try:
            (ack,) = self.client.push([{**status, "body": self.store.status_report(self.trust_max_age_s)}])
        except ValueError as exc:  # a lane's name the contract refuses: the next report may do
            log.warning("status report not sent: %s", exc)
            return pushed
        if ack.refused:
            log.warning("the hub refused this kiosk's status report (%s): is the clock right?", ack.refused)
        return pushed

    def pull(self) -> int:
        """Every page since our cursor; the next page is fetched while this one is stored.

        Pages are still stored one after another, each with its cursor, so a failure
        part way leaves the store at the last page it committed. Card PINs are asked for
        from their own cursor (behind the sync cursor only in a kiosk that never stored
        any), then from each page's cursor, which storing the page makes theirs.
        """
        pulled = 0
        with ThreadPoolExecutor(1, thread_name_prefix="sync-fetch") as fetcher:
            pins_cursor = self.store.card_pins_cursor()
            stamp = self.store.honour_stamp()
            page = self.client.pull(
                self.store.sync_cursor(), self.page, pins_cursor=pins_cursor, honour_stamp=stamp
            )
            if page.kiosk_id and page.kiosk_id != self.store.setting(self.KIOSK_ID):
                self.store.set_setting(self.KIOSK_ID, page.kiosk_id)
            while True:
                ahead = None
                if page.more:
                    if page.honour is not None:
                        stamp = page.honour.stamp
                    ahead = fetcher.submit(
                        self.client.pull, page.cursor, self.page, pins_cursor=page.cursor, honour_stamp=stamp
                    )
                pulled += self.store.apply_pull(stored_page(page, self.pictures))
                if ahead is None:
                    self.fetch_pictures(page)
                    return pulled
                page = ahead.result()

    def fetch_pictures(self, page: PullPage) -> int:
        """The catalogue's pictures this kiosk does not hold yet, each written whole (a
        temporary file renamed) under its SHA-256; how many were fetched. One the hub
        cannot give is tried again at the next sync; meanwhile the item shows its badge."""
        if self.pictures is None or not page.catalogue:
            return 0
        wanted = {e.picture for e in page.catalogue if e.picture}
        missing = sorted(sha for sha in wanted if not picture_path(self.pictures, sha).exists())
        self.pictures.mkdir(parents=True, exist_ok=True)
        fetched = 0
        for sha in missing:
            try:
                data = self.client.picture(sha)
            except HubError as exc:  # the sync itself went well: the badge shows until the next
                log.warning("picture %s not fetched: %s", sha[:12], exc.problem)
                continue
            final = picture_path(self.pictures, sha)
            part = final.with_suffix(".part")
            with open(part, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, final)
            fetched += 1
        return fetched

    def run_once(self) -> SyncReport:
        """Push first, then pull; report what moved (nothing is lost on failure).

        Each sync is one line in the log, and its outcome is kept for the technician
        screen (:meth:`~kiosk.services.records.Records.sync_finished`).
        """
        pushed = pulled = 0
        try:
            pushed = self.push()
            pulled = self.pull()
        except HubError as exc:
            log.warning("sync failed (pushed %d, pulled %d): %s", pushed, pulled, exc.problem)
            self.store.sync_finished(exc.problem)
            return SyncReport(False, pushed, pulled, exc.problem, exc.retry_after_s)
        log.info("sync: pushed %d, pulled %d", pushed, pulled)
        self.store.sync_finished(None)
        if pulled:
            self.store.checkpoint()  # the pages' writes, out of the next redemption's way
        return SyncReport(True, pushed, pulled)
