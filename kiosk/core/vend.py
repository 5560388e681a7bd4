"""A dispense's life, and what each ending does to the ledger and the lane (no SQL).

A vend starts ``in_flight`` with its hold. What the machine says settles it
(:func:`settle_vend`): a confirmed drop charges the hold and takes one from the lane's
stock; a failure releases the hold, and a jam or an empty drop disables the lane until
a technician looks; when nobody can tell, the hold stays and the vend waits ``unknown``
for a technician's word (:func:`settle_by_hand`). A dispensed item can be given back
once (:func:`refund`). A technician's test vend moves stock only (:func:`after_test_vend`).
The store saves what these functions decide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drivers.machine import JAM_FLAGS, DispenseResult, Flag, Outcome

from .catalog import Item, Lane
from .ledger import EntryKind

DISABLING_FLAGS = JAM_FLAGS | {Flag.NOTHING_DROPPED}
"""After a failure with one of these flags, the lane stays disabled until a technician enables it."""


class VendState(StrEnum):
    IN_FLIGHT = "in_flight"
    DISPENSED = "dispensed"
    NOT_DISPENSED = "not_dispensed"
    UNKNOWN = "unknown"
    REFUNDED = "refunded"


OPEN_STATES = (VendState.IN_FLIGHT, VendState.UNKNOWN)
"""A vend in these states still holds its price (no charge or release yet)."""


@dataclass(frozen=True, slots=True)
class Vend:
    id: str
    hold_id: str
    lane: int
    state: VendState
    flags: str = ""
    sn: int | None = None
    started_at: int = 0
    finished_at: int | None = None


class VendError(LookupError):
    """No vend in the state the change needs (not in doubt, not dispensed, not there)."""


class AlreadySettled(RuntimeError):
    """The machine's word on a vend that was settled already (it is never applied twice)."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """What ending a vend does: its new state, the ledger entry that closes the hold, the lane."""

    vend: Vend
    entry: EntryKind | None
    """``charge`` or ``release`` of the hold; ``None`` keeps the hold open (in doubt)."""
    lane: Lane | None
    """The lane afterwards (stock, enabled, fault); ``None`` if the lane is gone."""
    disabled: bool = False
    """The machine disabled the lane now (the audit log says so)."""


_ENTRY = {Outcome.DISPENSED: EntryKind.CHARGE, Outcome.NOT_DISPENSED: EntryKind.RELEASE}


def _taken(lane: Lane | None) -> Lane | None:
    return None if lane is None else dataclasses.replace(lane, stock=max(lane.stock - 1, 0))


def settle_vend(vend: Vend, result: DispenseResult, lane: Lane | None, at: int) -> Settlement:
    """Charge on a confirmed drop, release on a failure, keep the hold when unknown."""
    if vend.state is not VendState.IN_FLIGHT:
        raise AlreadySettled(f"vend {vend.id} already settled as {vend.state}")
    flags = ",".join(f.value for f in result.flags)
    ended = dataclasses.replace(vend, state=VendState(result.outcome.value), flags=flags, finished_at=at)
    disabled = False
    if result.outcome is Outcome.DISPENSED:
        lane = _taken(lane)
    elif lane is not None and set(result.flags) & DISABLING_FLAGS:
        lane = dataclasses.replace(lane, enabled=False, fault=flags)
        disabled = True
    return Settlement(ended, _ENTRY.get(result.outcome), lane, disabled)


def settle_by_hand(vend: Vend, dispensed: bool, lane: Lane | None, at: int) -> Settlement:
    """A technician's word on a dispense in doubt: it dropped (charge), or not (release)."""
    if vend.state is not VendState.UNKNOWN:
        raise VendError(f"no dispense in doubt with id {vend.id}")
    state = VendState.DISPENSED if dispensed else VendState.NOT_DISPENSED
    ended = dataclasses.replace(vend, state=state, finished_at=at)
    if dispensed:
        return Settlement(ended, EntryKind.CHARGE, _taken(lane))
    return Settlement(ended, EntryKind.RELEASE, lane)


def refund(vend: Vend) -> Vend:
    """A dispensed item's 益币 given back, once (the item stays gone: stock is not restored)."""
    if vend.state is not VendState.DISPENSED:
        raise VendError(f"no dispensed item with vend id {vend.id}")
    return dataclasses.replace(vend, state=VendState.REFUNDED)


def after_test_vend(lane: Lane, result: DispenseResult) -> Lane:
    """A technician's test vend: stock follows what dropped."""
    return _taken(lane) if result.outcome is Outcome.DISPENSED else lane  # type: ignore[return-value]


LANE_FIELDS = frozenset({"item_id", "capacity", "stock", "enabled"})
ITEM_FIELDS = frozenset({"name_zh", "name_en", "price", "image"})


def change_lane(lane: Lane, changes: Mapping[str, Any]) -> Lane:
    """A technician's lane edit, checked: stock within capacity; enabling clears the fault."""
    unknown = set(changes) - LANE_FIELDS
    if unknown:
        raise ValueError(f"unknown lane fields: {sorted(unknown)}")
    changed = dataclasses.replace(lane, **changes)
    if changed.capacity < 0 or not 0 <= changed.stock <= changed.capacity:
        raise ValueError("stock must be between 0 and the lane's capacity")
    if changes.get("enabled") is True:
        changed = dataclasses.replace(changed, fault=None)
    return changed


def check_price(price: object) -> None:
    """A price is a positive whole number of 益币."""
    if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
        raise ValueError("a price is a positive whole number of 益币")


HUB_FIELDS = frozenset({"name_zh", "name_en", "price"})
"""What the hub's catalogue decides for an item it manages."""


class ManagedByHub(ValueError):
    """A technician tried to change what the fleet's catalogue decides (names, price)."""


def check_item_changes(changes: Mapping[str, Any], item: Item | None = None) -> None:
    """A technician's item edit, checked; an item of the hub's catalogue keeps its names and
    price (only its picture is the kiosk's)."""
    unknown = set(changes) - ITEM_FIELDS
    if unknown:
        raise ValueError(f"unknown item fields: {sorted(unknown)}")
    if "price" in changes:
        check_price(changes["price"])
    if item is not None and item.hub_id is not None:
        ruled = {f for f in HUB_FIELDS & set(changes) if changes[f] != getattr(item, f)}
        if ruled:
            raise ManagedByHub(
                f"item {item.id} is the hub catalogue's: {', '.join(sorted(ruled))} are set there"
            )


@dataclass(frozen=True, slots=True)
class HubItem:
    """An item of the hub's catalogue as a pull page brings it (``image``: the path its
    picture is kept at here, or None: the hub has none, the kiosk's own stays)."""

    hub_id: int
    name_zh: str
    name_en: str
    price: int
    image: str | None = None


def hub_catalogue_changes(items: Iterable[Item], entries: Iterable[HubItem]) -> tuple[list[Item], list[Item]]:
    """What a pull page's catalogue changes here: the kiosk's items to save (names, price
    and picture as the hub has them; an item of the kiosk's own with the same Chinese name
    is linked, so its lanes keep selling it), and the new ones to add (their id 0).

    Items the hub no longer lists stay as they are: a technician remaps their lanes.
    """
    own = list(items)
    by_hub = {i.hub_id: i for i in own if i.hub_id is not None}
    unlinked = {i.name_zh: i for i in own if i.hub_id is None}
    saved: list[Item] = []
    added: list[Item] = []
    for e in entries:
        item = by_hub.get(e.hub_id) or unlinked.pop(e.name_zh, None)
        if item is None:
            added.append(Item(0, e.name_zh, e.name_en, e.price, e.image or "", e.hub_id))
            continue
        image = item.image if e.image is None else e.image
        changed = dataclasses.replace(
            item, name_zh=e.name_zh, name_en=e.name_en, price=e.price, image=image, hub_id=e.hub_id
        )
        if changed != item:
            saved.append(changed)
    return saved, added
