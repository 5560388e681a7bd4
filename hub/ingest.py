"""The hub's rules for a kiosk's pushed event: plain Python over facts, no SQL.

``protocol.sync`` has already refused what is malformed (a 422 naming the field). What
is left is judged here, event by event, in the order the events arrived, before anything
reaches the ledger (``hub/sync.py`` loads the facts in a few set-based queries a group
and saves the outcome):

1. the same id and the same content (:func:`digest`) as an event refused before is
   refused again, with the same reason; as one applied before, it is a repeat
   (acknowledged with the sequence it was applied at); the same id with other content
   than an applied event is a ``conflict``;
2. an amount over :attr:`EventLimits.max_amount` (one event), a time before
   :attr:`EventLimits.earliest_at` or more than :attr:`EventLimits.ahead_s` past the hub's clock
   (an offline kiosk's events days or weeks late are fine);
3. a redemption or reversal of a volunteer the hub does not know;
4. a reversal must name (``reverses``) a charge the hub holds from the same kiosk for
   the same volunteer, for at most its amount, and only once.

A charge and its reversal in one push (or in one group of pushes) see each other, as
they would one after the other. A refused event goes to the hub's quarantine with its
reason; its kiosk is told the reason and stops sending it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from protocol.sync import INT32_MAX, AuditEvent, LedgerEvent, RedemptionEvent, Refused, ReversalEvent

MAX_AMOUNT_ENV = "HUB_MAX_EVENT_AMOUNT"
"""The environment variable that sets :attr:`EventLimits.max_amount` (``kiosk-hub serve`` reads it)."""
DEFAULT_MAX_AMOUNT = 10_000
EARLIEST_AT = 1_577_836_800
"""2020-01-01 00:00 UTC: no kiosk's event is older (a clock that says so has lost its time)."""
AHEAD_S = 86_400
"""An event may be stamped at most a day past the hub's clock (clocks drift; years do not)."""

JudgedEvent = LedgerEvent | AuditEvent


@dataclass(frozen=True)
class EventLimits:
    """What one event may do, whatever the kiosk says."""

    max_amount: int = DEFAULT_MAX_AMOUNT
    """益币 one redemption or reversal may move, at most."""
    earliest_at: int = EARLIEST_AT
    ahead_s: int = AHEAD_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> EventLimits:
        """The limits ``HUB_MAX_EVENT_AMOUNT`` sets (default 10,000 益币); ValueError names it."""
        raw = env.get(MAX_AMOUNT_ENV, "").strip()
        if not raw:
            return cls()
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= INT32_MAX):
            raise ValueError(
                f"{MAX_AMOUNT_ENV} must be a whole number of 益币 from 1 to {INT32_MAX}, not {raw!r}"
            )
        return cls(max_amount=int(raw))

    def refusal(self, event: JudgedEvent, now: float) -> Refused | None:
        """Whether the event's own numbers are out of bounds (no facts needed)."""
        if not isinstance(event, AuditEvent) and event.amount > self.max_amount:
            return Refused.AMOUNT_OVER_LIMIT
        return self.time_refusal(event.at, now)

    def time_refusal(self, at: int, now: float) -> Refused | None:
        if at < self.earliest_at or at > now + self.ahead_s:
            return Refused.AT_OUT_OF_WINDOW
        return None


_NOT_DIGESTED = {"kiosk_id"}


def digest(event: JudgedEvent) -> str:
    """SHA-256 of the event's canonical JSON, as validated: no whitespace, no absent or null
    field, and not the redemption's ``kiosk_id`` (the hub takes the kiosk from the token,
    and a kiosk names itself only once it has learnt its id).

    A redemption's or reversal's fields are flat and come in the contract model's order
    whatever order the kiosk sent them in (pydantic writes them, fast: this runs for every
    event pushed), so the models' fields must never be reordered; an audit entry's
    ``before`` and ``after`` are objects, so its keys are sorted. A repeat is recognised
    however the kiosk spelt it (key order, ``null`` or left out, a UUID in capitals), and
    anything that changes what the hub would record is not.
    """
    if isinstance(event, AuditEvent):
        fields = event.model_dump(mode="json", exclude_none=True)
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()
    data = type(event).__pydantic_serializer__.to_json(event, exclude_none=True, exclude=_NOT_DIGESTED)
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Charge:
    """A charge the hub holds, as a reversal naming it needs it."""

    kiosk_id: str | None
    volunteer_id: str
    amount: int
    """益币 charged (positive)."""
    reversed: bool


@dataclass
class Facts:
    """What the hub holds of the events in one group (loaded in a few set-based queries)."""

    unknown: set[str] = field(default_factory=set)
    """The volunteers the events name whom the hub does not know."""
    applied: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    """Event id → (sequence, digest) of the events applied already (digest None: before digests)."""
    refused: dict[tuple[str, str], str] = field(default_factory=dict)
    """(Event id, digest) → reason, of the events refused already."""
    charges: dict[str, Charge] = field(default_factory=dict)
    """Charges the group's reversals name, by event id."""

    def merge(self, more: Facts) -> None:
        """Add what was learnt of more events."""
        self.unknown |= more.unknown
        self.applied.update(more.applied)
        self.refused.update(more.refused)
        self.charges.update(more.charges)


class Verdict(NamedTuple):
    """What to do with one event: apply it, or acknowledge it as a repeat, or refuse it.

    A repeat (``duplicate``) was applied or refused before (or earlier in the same group):
    nothing is written for it again.
    """

    apply: bool
    refused: str | None = None
    """A :class:`Refused` value (one the hub stored, for a repeat of a refused event)."""
    duplicate: bool = False


REPEAT = Verdict(False, None, True)
APPLY = Verdict(True)


def judge(
    batches: Sequence[tuple[str, Sequence[tuple[JudgedEvent, str]]]],
    facts: Facts,
    limits: EventLimits,
    now: float,
) -> list[list[Verdict]]:
    """Each batch's ``(event, digest)`` pairs judged in order, each batch as its kiosk's.

    ``facts`` must cover every event id, volunteer and named charge in ``batches``.
    """
    seen: dict[tuple[str, str], Verdict] = {}
    applying: dict[str, str] = {}  # event id → digest, of the events this group applies
    charges = dict(facts.charges)
    named = {e.reverses for _, events in batches for e, _ in events if isinstance(e, ReversalEvent)}
    verdicts: list[list[Verdict]] = []
    for kiosk_id, events in batches:
        mine: list[Verdict] = []
        for event, dg in events:
            key = (event.id, dg)
            if key in facts.refused:
                verdict = Verdict(False, facts.refused[key], True)
            elif key in seen:
                verdict = Verdict(False, seen[key].refused, True)
            else:
                verdict = _judge_new(kiosk_id, event, dg, facts, applying, charges, named, limits, now)
                seen[key] = verdict
                if verdict.apply:
                    applying[event.id] = dg
            mine.append(verdict)
        verdicts.append(mine)
    return verdicts


def _judge_new(
    kiosk_id: str,
    event: JudgedEvent,
    dg: str,
    facts: Facts,
    applying: dict[str, str],
    charges: dict[str, Charge],
    named: set[str | None],
    limits: EventLimits,
    now: float,
) -> Verdict:
    known = facts.applied.get(event.id)
    if known is not None:
        return REPEAT if known[1] in (None, dg) else Verdict(False, Refused.CONFLICT)
    if event.id in applying:  # applied earlier in this group with other content
        return Verdict(False, Refused.CONFLICT)
    reason = limits.refusal(event, now)
    if reason is not None:
        return Verdict(False, reason)
    if isinstance(event, AuditEvent):
        return APPLY
    if event.volunteer_id in facts.unknown:
        return Verdict(False, Refused.UNKNOWN_VOLUNTEER)
    if isinstance(event, RedemptionEvent):
        if event.id in named:  # a reversal later in the group gives it back
            charges[event.id] = Charge(kiosk_id, event.volunteer_id, event.amount, reversed=False)
        return APPLY
    reason = _reversal_refusal(kiosk_id, event, charges)
    if reason is not None:
        return Verdict(False, reason)
    assert event.reverses is not None
    charges[event.reverses] = replace(charges[event.reverses], reversed=True)
    return APPLY


def _reversal_refusal(kiosk_id: str, event: ReversalEvent, charges: Mapping[str, Charge]) -> Refused | None:
    if event.reverses is None:
        return Refused.CHARGE_NOT_NAMED
    charge = charges.get(event.reverses)
    if charge is None or charge.kiosk_id != kiosk_id or charge.volunteer_id != event.volunteer_id:
        return Refused.NO_SUCH_CHARGE
    if charge.reversed:
        return Refused.ALREADY_REVERSED
    if event.amount > charge.amount:
        return Refused.REVERSAL_EXCEEDS_CHARGE
    return None
