"""The kiosk's use cases: identify a scan, vend one item, technician changes.

``scan`` turns a code into a volunteer (with balance and today's picks), a technician,
a card holder whose PIN must be typed first (``check_card_pin`` then gives the volunteer),
or a refusal notice. ``vend`` runs one line of a confirmed cart: it checks the machine
is ready, holds the price in the store, turns the lane and settles the hold from what
the machine said: charged only on a confirmed drop, released on a failure, kept (in
doubt) when nobody can tell.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.machine import DispenseResult, Flag, MachineStatus, Outcome, VendingMachine
from protocol.codes import CodeKind, CodeVerifier, ReplayMemory, TrustList, card_id

from .. import failpoints
from ..core.card_pin import (
    CardGate,
    CardHolder,
    PinVerdict,
    answer_pin,
    card_gate,
    card_locked_notice,
    card_pin_notice,
)
from ..core.catalog import Item, Lane, Offer, pick_lane
from ..core.honour import HonourRoll, Standing, roll, standings
from ..core.offline import OfflinePolicy
from ..core.people import Volunteer
from ..core.records import AuditEntry, InDoubt, Redemption
from ..core.rules import Limits, Refusal
from ..core.session import LineStatus, Notice
from ..core.sync_problems import SyncProblem
from .store import Refused, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanResult:
    volunteer: Volunteer | None = None
    offers: tuple[Offer, ...] = ()
    tech_id: str | None = None
    notice: Notice | None = None
    card_holder: CardHolder | None = None
    """A card whose PIN must be typed before the volunteer is shown (``check_card_pin``)."""


@dataclass(frozen=True, slots=True)
class CardPinCheck:
    """What a PIN typed after a card's scan led to: the volunteer, or a notice; ``ends_visit``
    when there is no use typing again (the card is locked out now)."""

    volunteer: Volunteer | None = None
    offers: tuple[Offer, ...] = ()
    notice: Notice | None = None
    ends_visit: bool = False


@dataclass(frozen=True, slots=True)
class VendReport:
    status: LineStatus
    available: int | None
    notice: Notice | None = None
    result: DispenseResult | None = None


@dataclass(frozen=True, slots=True)
class TechOverview:
    lanes: tuple[Lane, ...]
    items: tuple[Item, ...]
    faults: dict[int, str]
    recent: tuple[Redemption, ...]
    audit: tuple[AuditEntry, ...]
    status: MachineStatus
    in_doubt: tuple[InDoubt, ...] = ()
    driver_errors: tuple[str, ...] = ()
    last_sync: str | None = None
    """Unix time of the last good sync with the hub, if any."""
    queued_events: int = 0
    has_hub: bool = True
    """False for a kiosk with no hub configured (a demo): its events stay here."""
    offline: bool = False
    """No good sync for longer than the offline threshold: the offline caps apply."""
    sync_problem: SyncProblem | None = None
    """Why the last sync failed (None: it did not)."""


@dataclass(frozen=True, slots=True)
class PinCheck:
    ok: bool
    notice: Notice | None = None


def _short(jti: str | None) -> str:
    """A code as the log names it: its card id's first 8 characters, never the code."""
    return jti[:8] if jti else "unreadable"


def log_vend(result: DispenseResult, volunteer_id: str, item: Item, visit_id: str) -> None:
    """One line for every vend: SN, lane, outcome (a warning unless the item dropped)."""
    flags = f" ({', '.join(f.value for f in result.flags)})" if result.flags else ""
    level = logging.INFO if result.outcome is Outcome.DISPENSED else logging.WARNING
    log.log(
        level,
        "vend: SN %s, lane %d, %s%s; item %d, %d 益币, volunteer %s, visit %s",
        result.sn, result.lane, result.outcome.value, flags, item.id, item.price, volunteer_id, visit_id,
    )  # fmt: skip


_OUTCOME_STATUS = {
    Outcome.DISPENSED: LineStatus.DISPENSED,
    Outcome.NOT_DISPENSED: LineStatus.FAILED,
    Outcome.UNKNOWN: LineStatus.UNKNOWN,
}


class KioskService:
    def __init__(
        self,
        store: Store,
        machine: VendingMachine,
        issuers: list[str],
        limits: Limits,
        replay: ReplayMemory | None = None,
        offline_policy: OfflinePolicy | None = None,
    ) -> None:
        self.store = store
        self.machine = machine
        self.limits = limits
        self._issuers = issuers
        self._replay = replay or store
        self.verifier = self._make_verifier()
        self._offers: tuple[Offer, ...] | None = None
        self._honour: tuple[HonourRoll | None, dict[str, Standing]] | None = None
        """The honour roll and each volunteer's standing, as read (None after a sync)."""
        self.offline_policy = offline_policy
        """The offline rules; ``None`` for a kiosk with no hub (they never apply)."""

    def _make_verifier(self) -> CodeVerifier:
        jwks, revoked = self.store.trust()
        return CodeVerifier(TrustList(jwks, revoked), self._replay, self._issuers, clock=self.store.clock)

    def reload_trust(self) -> None:
        """Read the trust list and revoked cards from the store again (after a sync)."""
        self.verifier = self._make_verifier()

    def after_sync(self) -> None:
        """What a good sync may have changed: the trust list, the hub's catalogue (names,
        prices, pictures) and the honour roll are read again when next asked for."""
        self.reload_trust()
        self._catalog_changed()
        self._honour = None

    def honour(self) -> HonourRoll | None:
        """The honour roll for the idle screen (read once after each sync)."""
        return self._board()[0]

    def standing(self, volunteer_id: str) -> Standing | None:
        """A volunteer's own standing this month, for their screen only."""
        return self._board()[1].get(volunteer_id)

    def _board(self) -> tuple[HonourRoll | None, dict[str, Standing]]:
        if self._honour is None:
            board = self.store.honour_board()
            self._honour = (roll(board), standings(board))
        return self._honour

    # --- volunteers ----------------------------------------------------------------------

    def offers(self) -> tuple[Offer, ...]:
        """The catalog, cached until a vend or a technician's change alters it."""
        if self._offers is None:
            self._offers = tuple(self.store.offers())
        return self._offers

    def _with_standing(self, volunteer: Volunteer) -> Volunteer:
        return dataclasses.replace(volunteer, standing=self.standing(volunteer.id))

    def _catalog_changed(self) -> None:
        self._offers = None

    def flush(self) -> None:
        """Make what the last scan remembered durable."""
        self.store.flush_seen()

    def after_scan(self) -> None:
        """Runs on the worker once a scan's answer is on its way: the code goes on disk, then
        the store's housekeeping, while the volunteer reads the screen (not inside a vend)."""
        self.flush()
        self.store.checkpoint()

    def _offline(self) -> OfflinePolicy | None:
        """The policy to apply now: only when there is a hub and the last good sync is old."""
        policy = self.offline_policy
        if policy is None:
            return None
        last = self.store.setting("last_good_sync")
        return policy if policy.offline(self.store.clock(), None if last is None else float(last)) else None

    def scan(self, code: str) -> ScanResult:
        if self.offline_policy is not None:
            synced = self.store.setting(self.store.TRUST_SYNCED_AT)
            if self.offline_policy.trust_stale(self.store.clock(), None if synced is None else float(synced)):
                return ScanResult(notice=Notice("trust_stale"))
        verdict = self.verifier.verify(code.strip())
        if verdict.claims is None:
            assert verdict.reason is not None
            log.info("scan refused: %s (code %s)", verdict.reason.value, _short(card_id(code.strip())))
            return ScanResult(notice=Notice(verdict.reason.value))
        claims = verdict.claims
        seen = f"{claims.kind.value} code {_short(claims.jti)} of {claims.sub}"
        if claims.kind is CodeKind.VOUCHER:  # a partner's desk checks it, at the hub
            log.info("scan refused: %s, a voucher", seen)
            return ScanResult(notice=Notice("voucher_here"))
        if claims.kind is CodeKind.TECH:
            if self.store.technician_pin(claims.sub) is None:
                log.info("scan refused: %s, a technician this kiosk does not know", seen)
                return ScanResult(notice=Notice("tech_unknown"))
            log.info("scan: %s", seen)
            return ScanResult(tech_id=claims.sub)
        volunteer = self.store.volunteer(claims.sub, self._offline())
        if volunteer is None:
            log.info("scan refused: %s, a volunteer this kiosk does not know", seen)
            return ScanResult(notice=Notice(Refusal.UNKNOWN_VOLUNTEER.value))
        if claims.kind is CodeKind.CARD:  # a phone's code needs no look-up
            now = self.store.clock()
            pin = self.store.card_pin(claims.sub)
            gate = card_gate(claims.kind, pin, now)
            if gate is CardGate.LOCKED:
                assert pin is not None
                log.info("scan refused: %s, its card PIN is locked", seen)
                return ScanResult(notice=card_locked_notice(pin[1], now))
            if gate is CardGate.ASK:
                log.info("scan: %s, asking for its card PIN", seen)
                return ScanResult(card_holder=CardHolder(volunteer.id, volunteer.name))
        log.info("scan: %s, %d 益币 available", seen, volunteer.available)
        return ScanResult(volunteer=self._with_standing(volunteer), offers=self.offers())

    def check_card_pin(self, volunteer_id: str, pin: str) -> CardPinCheck:
        """The PIN typed after a card's scan: the volunteer and the catalog when it is right
        (or when the hub cleared the PIN meanwhile), else what to say. Each try's state is
        saved; the try that locks the card writes an audit line (never the PIN)."""
        found = self.store.card_pin(volunteer_id)
        if found is not None:
            now = self.store.clock()
            answer = answer_pin(pin, found[0], found[1], now)
            if answer.checked:
                self.store.save_card_pin_state(volunteer_id, answer.state, answer.locked_for_s)
            if answer.verdict is not PinVerdict.ACCEPTED:
                locked = answer.verdict is PinVerdict.LOCKED
                return CardPinCheck(notice=card_pin_notice(answer, now), ends_visit=locked)
        volunteer = self.store.volunteer(volunteer_id, self._offline())
        if volunteer is None:
            return CardPinCheck(notice=Notice(Refusal.UNKNOWN_VOLUNTEER.value), ends_visit=True)
        return CardPinCheck(volunteer=self._with_standing(volunteer), offers=self.offers())

    def vend(
        self,
        volunteer_id: str,
        item: Item,
        visit_id: str,
        on_progress: Callable[[float], None] | None = None,
    ) -> VendReport:
        self.flush()  # no 益币 move before the scanned code is on disk
        lane = pick_lane(self.store.lanes(), item.id)
        if lane is None:
            return self._refused(volunteer_id, Refusal.SOLD_OUT)
        status = self._status()
        if not status.ready:
            return self._refused(volunteer_id, Refusal.MACHINE_FAULT)
        try:
            hold = self.store.place_hold(
                volunteer_id, item.id, lane.number, visit_id, self.limits, self._offline()
            )
        except Refused as refused:
            return self._refused(volunteer_id, refused.reason)
        failpoints.reached("after_hold")
        try:
            result = self.machine.dispense(lane.number, sn=hold.sn, on_progress=on_progress)
        except Exception:  # a driver that raised cannot say whether the motor turned
            log.exception("dispense on lane %s raised", lane.number)
            result = DispenseResult(Outcome.UNKNOWN, lane.number, (Flag.NO_REPLY,), sn=hold.sn)
        failpoints.reached("before_settle")
        balance = self.store.settle(hold, result)
        log_vend(result, volunteer_id, item, visit_id)
        self._catalog_changed()
        notice = None if result.outcome is Outcome.DISPENSED else Notice("machine_fault")
        return VendReport(_OUTCOME_STATUS[result.outcome], balance.available, notice, result)

    def recover(self) -> list[DispenseResult]:
        """Settle what a previous run left in flight, by asking the machine (start-up)."""
        results = []
        for hold in self.store.in_flight():
            try:
                result = self.machine.resolve(hold.lane, hold.sn)
            except Exception:
                log.exception("resolving the dispense on lane %s failed", hold.lane)
                result = DispenseResult(Outcome.UNKNOWN, hold.lane, (Flag.NO_REPLY,), sn=hold.sn)
            log.warning("dispense left in flight on lane %s: %s", hold.lane, result.outcome)
            self.store.settle(hold, result)
            results.append(result)
        if results:
            self._catalog_changed()
        return results

    def settle_in_doubt(self, actor: str, vend_id: str, dispensed: bool) -> None:
        self.store.settle_in_doubt(actor, vend_id, dispensed)
        self._catalog_changed()

    def refund(self, actor: str, vend_id: str) -> None:
        """Give a dispensed item's 益币 back (the volunteer's complaint upheld)."""
        self.store.refund(actor, vend_id)

    def _status(self) -> MachineStatus:
        try:
            return self.machine.status()
        except Exception:
            log.exception("machine status failed")
            return MachineStatus(alive=False, last_error=Flag.NO_REPLY.value)

    def _refused(self, volunteer_id: str, reason: Refusal) -> VendReport:
        log.info("vend refused: %s (volunteer %s)", reason.value, volunteer_id)
        params: dict[str, Any] = {}
        if reason is Refusal.DAILY_ITEM_CAP:
            params["n"] = self.limits.per_item_per_day
        balance = self.store.balance(volunteer_id)
        return VendReport(LineStatus.FAILED, balance.available, Notice(reason.value, params))

    # --- technicians ---------------------------------------------------------------------

    def check_pin(self, tech_id: str, pin: str) -> PinCheck:
        found = self.store.technician_pin(tech_id)
        if found is None:
            log.info("PIN entry for technician %s refused: not known here", tech_id)
            return PinCheck(False, Notice("tech_unknown"))
        now = self.store.clock()
        answer = answer_pin(pin, found[0], found[1], now)
        if answer.verdict is PinVerdict.ACCEPTED:
            self.store.save_pin_state(tech_id, answer.state, "tech_login")
            return PinCheck(True)
        if answer.checked:
            self.store.save_pin_state(tech_id, answer.state, "tech_pin_wrong")
        if answer.verdict is PinVerdict.LOCKED:
            minutes = answer.state.minutes_left(now)
            log.info("PIN entry for technician %s refused: locked %d more minutes", tech_id, minutes)
            return PinCheck(False, Notice("tech_pin_locked", {"n": minutes}))
        log.info("PIN entry for technician %s refused: wrong PIN", tech_id)
        return PinCheck(False, Notice("tech_pin_wrong", {"n": answer.state.tries_left}))

    def tech_overview(self) -> TechOverview:
        return TechOverview(
            lanes=tuple(self.store.lanes()),
            items=tuple(self.store.items()),
            faults=self.store.lane_faults(),
            recent=tuple(self.store.recent_redemptions()),
            audit=tuple(self.store.audit_log()),
            status=self._status(),
            in_doubt=tuple(self.store.in_doubt()),
            driver_errors=tuple(getattr(self.machine, "errors", ()))[-5:],
            last_sync=self.store.setting("last_good_sync"),
            queued_events=self.store.queued_events(),
            has_hub=self.offline_policy is not None,  # set exactly when a hub is configured
            offline=self._offline() is not None,
            sync_problem=self.store.sync_problem(),
        )

    def update_lane(self, actor: str, lane: int, changes: dict[str, Any]) -> Lane:
        self._catalog_changed()
        return self.store.update_lane(actor, lane, **changes)

    def leave_to_desktop(self, actor: str) -> None:
        """Recorded before the kiosk's program closes at a technician's word."""
        self.store.note_action(actor, "left_to_desktop", "kiosk")

    def refill(self, actor: str, lane: int | None) -> list[Lane]:
        self._catalog_changed()
        return self.store.refill(actor, lane)

    def add_item(self, actor: str) -> Item:
        """A new item for the technician to name and price (it sells once a lane holds it)."""
        return self.store.add_item(actor, "新商品", "New item", 10)

    def update_item(self, actor: str, item_id: int, changes: dict[str, Any]) -> Item:
        if not changes.get("name_zh", "x"):
            raise ValueError("an item needs a Chinese name")
        self._catalog_changed()
        return self.store.update_item(actor, item_id, **changes)

    def test_vend(self, actor: str, lane: int) -> DispenseResult:
        """Turn a lane without a volunteer (the technician watches it drop)."""
        try:
            result = self.machine.dispense(lane)
        except Exception:
            log.exception("test vend on lane %s raised", lane)
            result = DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,))
        self.store.record_test_vend(actor, lane, result)
        self._catalog_changed()
        return result
