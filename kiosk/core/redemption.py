"""The rules of a redemption, decided over facts the store loaded (no SQL, no Qt).

The store loads a bounded set of facts about one volunteer (:class:`VolunteerFacts`):
the hub's balance as of the kiosk's sync cursor, the entries that move 益币 and are not
inside that balance yet, the open holds, and today's holds. Never their whole history:
a courier who took water here every day for three years costs what a newcomer costs.
From those facts these functions decide:

- :func:`account`: hub balance as of the cursor, plus what this kiosk did that the hub
  has not reflected, less open holds;
- :func:`offline_room`: what the offline caps still let this volunteer spend today;
- :func:`volunteer_view`: the volunteer as the screens and the rules see them;
- :func:`hold_refusal`: why one item from one lane cannot be held now, in the one order
  of refusals that the cart check (:func:`~kiosk.core.rules.check_pick`) also follows.

The store then saves the outcome (:mod:`kiosk.services.redemptions` wires the three).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .catalog import Item, Lane, Offer
from .ledger import SIGN, Balance, Entry, EntryKind
from .offline import OfflinePolicy
from .people import Volunteer
from .rules import Limits, Refusal, check_pick

HUB_EVENTS = {EntryKind.CHARGE: "redemption", EntryKind.REVERSAL: "reversal"}
"""Entries that go up to the hub, each as its own event, and the event's kind."""


def hub_event(kind: EntryKind) -> str | None:
    """The kind of hub event an entry of ``kind`` goes up as, or ``None`` if it stays here."""
    return HUB_EVENTS.get(kind)


@dataclass(frozen=True, slots=True)
class VolunteerFacts:
    """What one decision about one volunteer needs, and no more."""

    id: str
    name: str | None
    """``None``: the kiosk has never heard of this volunteer."""
    hub_balance: int = 0
    """The hub's balance as of this kiosk's sync cursor."""
    unseen: tuple[Entry, ...] = ()
    """Entries the hub has not seen: charges and reversals not acknowledged yet, local credits."""
    unreflected: tuple[Entry, ...] = ()
    """Entries the hub acknowledged at a sequence past this kiosk's cursor."""
    open_holds: tuple[Entry, ...] = ()
    """Holds no charge or release has settled yet (a vend in flight or in doubt)."""
    held_today: tuple[Entry, ...] = ()
    """Holds placed today and not released: the items taken today (charged or in the machine)."""


@dataclass(frozen=True, slots=True)
class KioskSpending:
    """Spending at this kiosk the hub has not seen, over all volunteers (the offline total cap)."""

    unseen_charges: int = 0
    open_holds: int = 0


@dataclass(frozen=True, slots=True)
class HoldFacts:
    """Everything :func:`hold_refusal` weighs: the lane, its item and the volunteer."""

    lane: Lane | None
    item: Item | None
    item_id: int
    volunteer: Volunteer
    limits: Limits = field(default_factory=Limits)


def account(facts: VolunteerFacts) -> Balance:
    """The balance a volunteer has here: nothing counted twice, nothing left out.

    A charge the hub applied at a sequence up to the cursor is inside ``hub_balance``
    already, so the store does not load it; holds move nothing until settled.
    """
    moved = sum(SIGN[e.kind] * e.amount for e in (*facts.unseen, *facts.unreflected))
    held = sum(e.amount for e in facts.open_holds)
    return Balance(settled=facts.hub_balance + moved, held=held)


def taken_today(facts: VolunteerFacts) -> dict[int, int]:
    """Items held today and not released (charged, or still in the machine), by item id."""
    return dict(Counter(e.item_id for e in facts.held_today if e.item_id is not None))


def offline_room(policy: OfflinePolicy, facts: VolunteerFacts, kiosk: KioskSpending, day: str) -> int:
    """益币 ``policy`` still lets this volunteer spend today, counting all the hub has not seen.

    Today's spending is today's charges the hub has not seen plus today's open holds;
    the kiosk's is every charge not seen plus every open hold. A refund not yet seen
    makes no room.
    """
    spent_today = sum(e.amount for e in facts.unseen if e.kind is EntryKind.CHARGE and e.day == day)
    spent_today += sum(e.amount for e in facts.open_holds if e.day == day)
    return policy.room(spent_today, kiosk.unseen_charges + kiosk.open_holds)


def volunteer_view(
    facts: VolunteerFacts,
    day: str,
    policy: OfflinePolicy | None = None,
    kiosk: KioskSpending | None = None,
) -> Volunteer:
    """The volunteer as the screens show them; with ``policy``, their offline room too."""
    room = None
    if policy is not None:
        room = offline_room(policy, facts, kiosk or KioskSpending(), day)
    return Volunteer(
        id=facts.id,
        name=facts.name or "",
        available=account(facts).available,
        taken_today=taken_today(facts),
        spend_limit=room,
    )


def hold_refusal(facts: HoldFacts) -> Refusal | None:
    """Why ``facts.item_id`` cannot be held on ``facts.lane`` now, or ``None`` if it can.

    A lane that is gone or holds another item is sold out; a disabled lane is a machine
    fault; then the cart's own rules in their order (stock, caps, balance, offline room),
    with the lines before this one already held or charged.
    """
    lane, item = facts.lane, facts.item
    if lane is None or item is None or lane.item_id != facts.item_id:
        return Refusal.SOLD_OUT
    if not lane.enabled:
        return Refusal.MACHINE_FAULT
    v = facts.volunteer
    offer = Offer(item=item, stock=lane.stock, lanes=(lane.number,))
    return check_pick(offer, (), v.available, v.taken_today, facts.limits, v.spend_limit)
