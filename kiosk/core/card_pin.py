"""Whether a scan asks for a PIN, and what a typed PIN gets: plain rules, no I/O.

A printed card (code kind ``card``) spends its owner's 益币 for whoever holds it, so a
volunteer may give it a PIN at the hub; the kiosk then asks for it after the card's
scan. A code from the volunteer's phone (kind ``app``) never asks: the app signed the
volunteer in, and each of its codes lives a minute. A card without a PIN is as before.

A typed PIN (a technician's or a card's) is checked against the hub's slow hash with the
lockout rule of :class:`~kiosk.core.people.PinState`: five wrong tries lock it, each lockout
in a row longer. While locked, nothing is checked; the right PIN starts the ladder again.
The answer says what to save and what to say; the service saves it, the screens show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from protocol.codes import CodeKind

from .people import CardHolder, PinState, pin_matches
from .session import Notice

__all__ = [
    "CardGate",
    "CardHolder",
    "PinAnswer",
    "PinVerdict",
    "answer_pin",
    "card_gate",
    "card_locked_notice",
    "card_pin_notice",
]


class PinVerdict(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"


class CardGate(StrEnum):
    """What a volunteer's scan leads to, as far as a PIN goes."""

    OPEN = "open"
    """No PIN to ask: a phone's code, or a card without one."""
    ASK = "ask"
    LOCKED = "locked"
    """The card's PIN is locked out: the scan is refused until the lock ends."""


@dataclass(frozen=True, slots=True)
class PinAnswer:
    verdict: PinVerdict
    state: PinState
    """The PIN's state after this try (as it was, when it was locked already)."""
    checked: bool = True
    """False when the PIN was not looked at because it was locked: nothing to save."""
    locked_for_s: int | None = None
    """When this very try locked the PIN: for how long (the audit log says so)."""


def card_gate(kind: CodeKind, pin: tuple[str, PinState] | None, now: float) -> CardGate:
    """``pin``: the volunteer's card PIN hash and its state, None when their card has none."""
    if kind is not CodeKind.CARD or pin is None:
        return CardGate.OPEN
    return CardGate.LOCKED if pin[1].locked(now) else CardGate.ASK


def answer_pin(pin: str, pin_hash: str, state: PinState, now: float) -> PinAnswer:
    """The verdict on one typed PIN, and the state to keep (``PinState``'s lockout rule)."""
    if state.locked(now):
        return PinAnswer(PinVerdict.LOCKED, state, checked=False)
    if pin_matches(pin, pin_hash):
        return PinAnswer(PinVerdict.ACCEPTED, PinState())
    after = state.after_failure(now)
    if after.locked(now):
        return PinAnswer(PinVerdict.LOCKED, after, locked_for_s=int(after.locked_until - now))
    return PinAnswer(PinVerdict.WRONG, after)


def card_pin_notice(answer: PinAnswer, now: float) -> Notice | None:
    """What the volunteer reads after a PIN that was not accepted (None when it was)."""
    if answer.verdict is PinVerdict.ACCEPTED:
        return None
    if answer.verdict is PinVerdict.WRONG:
        return Notice("card_pin_wrong", {"n": answer.state.tries_left})
    return card_locked_notice(answer.state, now)


def card_locked_notice(state: PinState, now: float) -> Notice:
    """When to try again: in minutes up to an hour, then in whole hours (a lockout of a day
    reads "24 hours", not "1440 minutes")."""
    minutes = state.minutes_left(now)
    if minutes <= 60:
        return Notice("card_pin_locked", {"n": minutes})
    return Notice("card_pin_locked_hours", {"n": -(-minutes // 60)})
