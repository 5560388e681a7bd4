"""兑换券: vouchers for a partner's service (a day at the children's park, 200 益币), each
used once.

A voucher is a code signed by the hub's keys, of kind ``voucher``: its id (``jti``), the
holder (``sub``), the item and its value in 益币, and an expiry. Issuing one charges the
holder's 益币 in the same transaction that records it (``vouchers``), so a voucher is never
made without its 益币 or its 益币 taken without a voucher. A partner (a client with the
``partner`` role and its own token) checks it: the signature, the kind, the expiry, then
**once** — a conditional ``UPDATE … WHERE used_at IS NULL`` that only one of any number of
concurrent checks can win, on SQLite and on PostgreSQL alike. The answer says why a
voucher is refused: forged, expired, not a voucher, or already used (where and when).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from protocol.codes import (
    CodeKind,
    CodeReason,
    CodeVerifier,
    MemoryReplay,
    TrustList,
    issue_code,
    unchecked_claims,
)

from .facts import insert_ignoring
from .models import Kiosk, LedgerEntry, Volunteer, Voucher
from .service import Hub, UnknownVolunteer, published_keys

MAX_DAYS = 366
"""A voucher's life, at most (a partner's season)."""
MAX_VALUE = 100_000
CITY_TZ = dt.timezone(dt.timedelta(hours=8))


class VoucherRefused(StrEnum):
    """Why a partner may not accept a voucher."""

    FORGED = "forged"
    """Not signed by a key of this hub (or changed since it was)."""
    EXPIRED = "expired"
    NOT_A_VOUCHER = "not_a_voucher"
    """A volunteer's or a technician's code, shown at a partner's desk."""
    ALREADY_USED = "already_used"


class NotEnough(ValueError):
    """The holder's balance does not cover the voucher's value."""


@dataclass(frozen=True)
class Check:
    """A partner's check of a voucher: accepted, or why not (and where and when it was used)."""

    accepted: bool
    reason: VoucherRefused | None = None
    voucher_id: str | None = None
    holder: str | None = None
    item: str | None = None
    value: int | None = None
    expires_at: int | None = None
    used_at: int | None = None
    used_by: str | None = None

    def sentence(self) -> str:
        """The answer in one line, as a partner's desk reads it."""
        if self.accepted:
            return f"accepted: {self.item} ({self.value} 益币) for {self.holder}"
        if self.reason is VoucherRefused.ALREADY_USED:
            return f"already used at {self.used_by} on {_shown(self.used_at)}"
        return {
            VoucherRefused.FORGED: "refused: not a voucher of this time bank (forged or damaged)",
            VoucherRefused.EXPIRED: f"refused: expired on {_shown(self.expires_at)}",
            VoucherRefused.NOT_A_VOUCHER: "refused: this is a volunteer's code, not a voucher",
        }[self.reason or VoucherRefused.FORGED]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": self.accepted, "detail": self.sentence()}
        if self.reason is not None:
            out["reason"] = self.reason.value
        for key in ("voucher_id", "holder", "item", "value"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.expires_at is not None:
            out["expires"] = _shown(self.expires_at)
        if self.used_at is not None:
            out["used_at"] = _shown(self.used_at)
            out["used_by"] = self.used_by
        return out


def _shown(at: int | None) -> str:
    return "?" if at is None else dt.datetime.fromtimestamp(at, CITY_TZ).strftime("%Y-%m-%d %H:%M")


def issue(hub: Hub, holder: str, item: str, value: int, days: int = 180) -> tuple[str, str]:
    """Sign a voucher for ``holder`` and charge its value, in one transaction: (id, code).

    Raises :class:`UnknownVolunteer`, :class:`NotEnough`, or ValueError for an item, value
    or life out of bounds.
    """
    item = item.strip()
    if not 1 <= len(item) <= 100:
        raise ValueError("an item's name is 1 to 100 characters")
    if not 1 <= value <= MAX_VALUE:
        raise ValueError(f"a voucher's value is 1 to {MAX_VALUE} 益币")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a voucher lasts 1 to {MAX_DAYS} days")
    now = int(hub.clock())
    kid, key = hub._signing_key()
    voucher_id = uuid.uuid4().hex
    expires = now + days * 86400
    code = issue_code(
        key,
        kid,
        iss=hub.issuer,
        sub=holder,
        kind=CodeKind.VOUCHER,
        now=now,
        lifetime_s=expires - now,
        jti=voucher_id,
        extra={"item": item, "value": value},
    )
    with hub.unit() as s:
        hub.lock_ledger(s)
        if s.get(Volunteer, holder) is None:
            raise UnknownVolunteer(holder)
        balance = s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.volunteer_id == holder)
        )
        if int(balance or 0) < value:
            raise NotEnough(f"{holder} has {balance} 益币, the voucher costs {value}")
        s.add(
            LedgerEntry(
                id=str(uuid.uuid4()),
                volunteer_id=holder,
                kind="redemption",
                amount=-value,
                note=f"voucher:{voucher_id}",
                at=now,
                item_name=item,
                unit_price=value,
                quantity=1,
            )
        )
        s.add(
            Voucher(
                id=voucher_id,
                holder=holder,
                item=item,
                value=value,
                issued_at=now,
                expires_at=expires,
                kid=kid,
            )
        )
    return voucher_id, code


def check(hub: Hub, code: str, partner_id: str) -> Check:
    """A partner's check: accepted the first time, refused with its reason after."""
    now = int(hub.clock())
    with hub.reading() as s:
        trust = TrustList({"keys": published_keys(s, now)})
    verdict = CodeVerifier(trust, MemoryReplay(), [hub.issuer], clock=hub.clock).verify(code.strip(), now)
    claims = verdict.claims
    if claims is None:
        if verdict.reason is CodeReason.EXPIRED:  # signed by this hub: its expiry can be said
            return Check(False, VoucherRefused.EXPIRED, expires_at=_expiry(code))
        return Check(False, VoucherRefused.FORGED)
    if claims.kind is not CodeKind.VOUCHER or claims.item is None or claims.value is None:
        return Check(False, VoucherRefused.NOT_A_VOUCHER)
    seen = Check(False, voucher_id=claims.jti, holder=claims.sub, item=claims.item, value=claims.value)
    with hub.unit() as s:
        _known(s, claims.jti, claims.sub, claims.item, claims.value, claims.iat, claims.exp)
        won = (
            s.connection()
            .execute(
                update(Voucher)
                .where(Voucher.id == claims.jti, Voucher.used_at.is_(None))
                .values(used_at=now, used_by=partner_id)
            )
            .rowcount
        )
        if won == 1:
            return dataclasses.replace(seen, accepted=True, expires_at=claims.exp)
        used = s.get(Voucher, claims.jti)
        assert used is not None and used.used_at is not None
        where = s.get(Kiosk, used.used_by) if used.used_by else None
        shown_by = where.name if where is not None else (used.used_by or "?")
        return dataclasses.replace(
            seen, reason=VoucherRefused.ALREADY_USED, used_at=used.used_at, used_by=shown_by
        )


def partner_named(hub: Hub, name: str) -> str | None:
    """A partner's client id by its name (the command line checks vouchers as a partner)."""
    with hub.reading() as s:
        found = s.scalar(
            select(Kiosk.id).where(Kiosk.role == "partner", Kiosk.name == name, Kiosk.revoked_at.is_(None))
        )
        return None if found is None else str(found)


def _known(s: Session, voucher_id: str, holder: str, item: str, value: int, iat: int, exp: int) -> None:
    """The voucher's row, made from its code if the hub has none yet (one a kiosk signed
    offline and has not pushed): its single use is recorded all the same."""
    row = {
        "id": voucher_id,
        "holder": holder,
        "item": item[:100],
        "value": value,
        "issued_at": iat,
        "expires_at": exp,
        "kid": "",
    }
    s.execute(insert_ignoring(s.connection(), Voucher), [row])


def _expiry(code: str) -> int | None:
    claims = unchecked_claims(code.strip())
    return None if claims is None else claims.exp
