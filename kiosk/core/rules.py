"""The rules a pick must pass before it enters the cart.

Balance never below zero (the cart's total never exceeds what is available after
holds), a per-visit cap on items, a per-item-per-day cap for each volunteer, and stock.
Each refusal is a stable machine-readable reason; ``messages`` turns it into a sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .catalog import Item, Offer, Yibi


class Refusal(StrEnum):
    INSUFFICIENT_BALANCE = "insufficient_balance"
    VISIT_CAP = "visit_cap"
    DAILY_ITEM_CAP = "daily_item_cap"
    SOLD_OUT = "sold_out"
    MACHINE_FAULT = "machine_fault"
    UNKNOWN_VOLUNTEER = "unknown_volunteer"
    NOT_A_VOLUNTEER = "not_a_volunteer"
    OFFLINE_CAP = "offline_cap"


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable caps. A real programme allows at most 2 of each gift a person a day."""

    per_visit_items: int = 5
    per_item_per_day: int = 2

    def __post_init__(self) -> None:
        if self.per_visit_items < 1 or self.per_item_per_day < 1:
            raise ValueError("caps must be at least 1")


def cart_total(cart: Sequence[Item]) -> Yibi:
    return sum(item.price for item in cart)


def check_pick(
    offer: Offer,
    cart: Sequence[Item],
    available: Yibi,
    taken_today: Mapping[int, int],
    limits: Limits,
    spend_limit: int | None = None,
) -> Refusal | None:
    """Why ``offer`` cannot join ``cart``, or ``None`` if it can.

    ``available`` is the volunteer's balance less open holds; ``taken_today`` counts the
    items this volunteer was charged for today, by item id; ``spend_limit`` is what the
    offline rules still allow (``None`` when the kiosk is online or has no hub).
    """
    in_cart = Counter(item.id for item in cart)
    if offer.stock - in_cart[offer.item.id] <= 0:
        return Refusal.SOLD_OUT
    if len(cart) >= limits.per_visit_items:
        return Refusal.VISIT_CAP
    if taken_today.get(offer.item.id, 0) + in_cart[offer.item.id] >= limits.per_item_per_day:
        return Refusal.DAILY_ITEM_CAP
    if cart_total(cart) + offer.item.price > available:
        return Refusal.INSUFFICIENT_BALANCE
    if spend_limit is not None and cart_total(cart) + offer.item.price > spend_limit:
        return Refusal.OFFLINE_CAP
    return None
