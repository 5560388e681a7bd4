"""The visit as a state machine: what the screens show, with no screens attached.

    idle → identified → choosing → confirming → dispensing → result → idle

A scan that passes the code checks identifies a volunteer (``identified``: greeting,
balance, catalog); the first pick moves to ``choosing``; ``review`` shows the confirm
step; ``confirm`` starts dispensing the cart line by line; when every line has an
outcome the visit shows the ``result`` and returns to ``idle``. ``cancel`` works at
every step (while dispensing it skips the lines not yet started). Each step but
``dispensing`` returns to idle after its inactivity timeout. A technician code leads to
``tech_pin`` and then ``tech``. A printed card whose volunteer gave it a PIN leads to
``card_pin`` first; the right PIN identifies the volunteer (``kiosk.core.card_pin``).

The machine never does I/O. The service layer feeds it what the store and the lane
machine said; the UI listens for changes and shows the current step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .catalog import Item, Offer, Yibi
from .honour import HonourRoll
from .people import CardHolder, Volunteer
from .rules import Limits, Refusal, cart_total, check_pick


class Step(StrEnum):
    IDLE = "idle"
    IDENTIFIED = "identified"
    CHOOSING = "choosing"
    CONFIRMING = "confirming"
    DISPENSING = "dispensing"
    RESULT = "result"
    TECH_PIN = "tech_pin"
    TECH = "tech"
    CARD_PIN = "card_pin"


class LineStatus(StrEnum):
    PENDING = "pending"
    DISPENSING = "dispensing"
    DISPENSED = "dispensed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        return self not in (LineStatus.PENDING, LineStatus.DISPENSING)


@dataclass(frozen=True, slots=True)
class Notice:
    """A sentence to show: a key of ``messages.TEXT`` and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Timeouts:
    identified: float = 30.0
    choosing: float = 60.0
    confirming: float = 30.0
    result: float = 8.0
    tech_pin: float = 30.0
    tech: float = 300.0
    card_pin: float = 30.0

    def for_step(self, step: Step) -> float | None:
        return None if step in (Step.IDLE, Step.DISPENSING) else float(getattr(self, step.value))


class StepError(RuntimeError):
    """An action that the current step does not allow (a bug in the caller)."""


class Session:
    """One kiosk's current visit. Not thread-safe: drive it from one thread."""

    def __init__(
        self,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or Limits()
        self.timeouts = timeouts or Timeouts()
        self._clock = clock
        self._listeners: list[Callable[[Session], None]] = []
        self.step = Step.IDLE
        self.volunteer: Volunteer | None = None
        self.offers: tuple[Offer, ...] = ()
        self.honour: HonourRoll | None = None
        """The community's honour roll, shown on the idle screen between the items."""
        self.cart: list[Item] = []
        self.lines: list[tuple[Item, LineStatus]] = []
        self.notice: Notice | None = None
        self.tech_id: str | None = None
        self.card_holder: CardHolder | None = None
        """The volunteer a scanned card names, while the card's PIN is asked for."""
        self.balance_after: Yibi | None = None
        self._last_activity = clock()

    # --- observing ---------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Session], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        self._last_activity = self._clock()
        for listener in list(self._listeners):
            listener(self)

    def _require(self, *steps: Step) -> None:
        if self.step not in steps:
            raise StepError(f"not allowed in step {self.step}")

    @property
    def total(self) -> Yibi:
        return cart_total(self.cart)

    def offer(self, item_id: int) -> Offer | None:
        return next((o for o in self.offers if o.item.id == item_id), None)

    def why_not(self, offer: Offer) -> Refusal | None:
        """Why ``offer`` cannot be picked now (for showing tiles as unavailable)."""
        if self.volunteer is None:
            return None
        v = self.volunteer
        return check_pick(offer, self.cart, v.available, v.taken_today, self.limits, v.spend_limit)

    @property
    def accepts_scan(self) -> bool:
        return self.step in (
            Step.IDLE,
            Step.IDENTIFIED,
            Step.CHOOSING,
            Step.CONFIRMING,
            Step.RESULT,
            Step.CARD_PIN,
        )

    # --- idle: catalog and refusals ------------------------------------------------------

    def show_offers(self, offers: Sequence[Offer]) -> None:
        """New catalog from the store (after a vend, a refill or a price change)."""
        self.offers = tuple(offers)
        self._changed()

    def show_honour(self, honour: HonourRoll | None) -> None:
        """The honour roll from the store (after a sync brought a new one)."""
        if honour != self.honour:
            self.honour = honour
            self._changed()

    def refuse(self, notice: Notice) -> None:
        """Tell the person in front of the screen why their scan or pick was refused."""
        self.notice = notice
        self._changed()

    def clear_notice(self) -> None:
        if self.notice is not None:
            self.notice = None
            self._changed()

    # --- volunteer visit -----------------------------------------------------------------

    def identify(self, volunteer: Volunteer, offers: Sequence[Offer]) -> None:
        """A volunteer's code was accepted; a new visit starts."""
        self._require(*[s for s in Step if s not in (Step.DISPENSING, Step.TECH_PIN, Step.TECH)])
        self._reset()
        self.volunteer = volunteer
        self.offers = tuple(offers)
        self.step = Step.IDENTIFIED
        self._changed()

    def ask_card_pin(self, holder: CardHolder) -> None:
        """A card with a PIN was scanned: a new visit starts by asking for it."""
        self._require(*[s for s in Step if s not in (Step.DISPENSING, Step.TECH_PIN, Step.TECH)])
        self._reset()
        self.card_holder = holder
        self.step = Step.CARD_PIN
        self._changed()

    def end_visit(self, notice: Notice) -> None:
        """Back to idle, saying why (a card locked out by its last wrong PIN)."""
        self._reset()
        self.notice = notice
        self._changed()

    def pick(self, item_id: int) -> Refusal | None:
        self._require(Step.IDENTIFIED, Step.CHOOSING)
        offer = self.offer(item_id)
        refusal = Refusal.SOLD_OUT if offer is None else self.why_not(offer)
        if refusal is not None:
            self.notice = _refusal_notice(refusal, self.limits)
        else:
            assert offer is not None
            self.notice = None
            self.cart.append(offer.item)
            self.step = Step.CHOOSING
        self._changed()
        return refusal

    def unpick(self, item_id: int) -> None:
        self._require(Step.CHOOSING, Step.CONFIRMING)
        for i in range(len(self.cart) - 1, -1, -1):
            if self.cart[i].id == item_id:
                del self.cart[i]
                break
        self.notice = None
        if not self.cart:
            self.step = Step.IDENTIFIED
        self._changed()

    def review(self) -> None:
        self._require(Step.CHOOSING)
        self.notice = None
        self.step = Step.CONFIRMING
        self._changed()

    def back(self) -> None:
        self._require(Step.CONFIRMING)
        self.step = Step.CHOOSING
        self._changed()

    def confirm(self) -> tuple[Item, ...]:
        """The volunteer confirmed: dispense the cart, in order."""
        self._require(Step.CONFIRMING)
        self.lines = [(item, LineStatus.PENDING) for item in self.cart]
        self.step = Step.DISPENSING
        self.notice = None
        self._changed()
        return tuple(self.cart)

    def line_changed(self, index: int, status: LineStatus, available: Yibi | None = None) -> None:
        """The service reports progress of line ``index``; ``available`` after it settled."""
        self._require(Step.DISPENSING)
        item, old = self.lines[index]
        if old.final:
            return
        self.lines[index] = (item, status)
        if available is not None:
            self.balance_after = available
        self._changed()

    def next_line(self) -> int | None:
        """Index of the next line to dispense, or ``None`` when none is left."""
        if self.step is not Step.DISPENSING:
            return None
        return next((i for i, (_, s) in enumerate(self.lines) if s is LineStatus.PENDING), None)

    def finish_dispensing(self) -> None:
        self._require(Step.DISPENSING)
        if any(not status.final for _, status in self.lines):
            raise StepError("lines still running")
        self.step = Step.RESULT
        self._changed()

    @property
    def dispensed(self) -> list[Item]:
        return [item for item, status in self.lines if status is LineStatus.DISPENSED]

    # --- technician ----------------------------------------------------------------------

    def begin_tech(self, tech_id: str) -> None:
        self._require(Step.IDLE, Step.RESULT, Step.IDENTIFIED, Step.CARD_PIN)
        self._reset()
        self.tech_id = tech_id
        self.step = Step.TECH_PIN
        self._changed()

    def tech_unlocked(self) -> None:
        self._require(Step.TECH_PIN)
        self.notice = None
        self.step = Step.TECH
        self._changed()

    # --- leaving -------------------------------------------------------------------------

    def cancel(self) -> None:
        """Cancel at any step. While dispensing, lines not yet started are skipped."""
        if self.step is Step.DISPENSING:
            self.lines = [
                (item, LineStatus.SKIPPED if status is LineStatus.PENDING else status)
                for item, status in self.lines
            ]
            self._changed()
            return
        self._reset()
        self._changed()

    def touch(self) -> None:
        """The person touched the screen: restart the inactivity timer."""
        self._last_activity = self._clock()

    def tick(self) -> bool:
        """Apply the inactivity timeout; ``True`` if the visit went back to idle."""
        limit = self.timeouts.for_step(self.step)
        if limit is None or self._clock() - self._last_activity < limit:
            return False
        self._reset()
        self._changed()
        return True

    def _reset(self) -> None:
        self.step = Step.IDLE
        self.volunteer = None
        self.cart = []
        self.lines = []
        self.notice = None
        self.tech_id = None
        self.card_holder = None
        self.balance_after = None


def _refusal_notice(refusal: Refusal, limits: Limits) -> Notice:
    if refusal is Refusal.VISIT_CAP:
        return Notice(refusal.value, {"n": limits.per_visit_items})
    if refusal is Refusal.DAILY_ITEM_CAP:
        return Notice(refusal.value, {"n": limits.per_item_per_day})
    if refusal is Refusal.OFFLINE_CAP:
        return Notice(refusal.value)
    return Notice(refusal.value)
