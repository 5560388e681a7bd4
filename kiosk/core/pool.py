"""合力兑换, pooling: several volunteers put 益币 together for one item none of them would
buy alone (seven volunteers, 11,200 益币, 560 bottles of water for sanitation workers).

The rules only: who may join and with how much, when the pool is funded, and what each
contributor is charged when it is — all of them in one transaction, or none (the store's
side). A pool that times out or is cancelled charges nobody. Each contributor's offline
cap applies to their own share. All values are frozen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from .catalog import Yibi

POOL_S = 300
"""A pool waits this long for its last contributor, then releases everyone."""
MAX_CONTRIBUTORS = 50


class PoolRefusal(StrEnum):
    CLOSED = "pool_closed"
    """Funded, cancelled or timed out: nobody joins any more."""
    ALREADY_IN = "pool_already_in"
    NOT_A_WHOLE_AMOUNT = "pool_amount"
    """Nothing, more than is still needed, or more than the volunteer may spend."""
    FULL = "pool_full"


class PoolState(StrEnum):
    OPEN = "open"
    FUNDED = "funded"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class Contribution:
    volunteer_id: str
    name: str
    amount: Yibi


@dataclass(frozen=True, slots=True)
class Pool:
    id: str
    item_id: int
    price: Yibi
    """What the pooled item costs in all (a case of water; a hub's order of 560 bottles)."""
    started_at: float
    contributions: tuple[Contribution, ...] = ()
    state: PoolState = PoolState.OPEN

    @property
    def raised(self) -> Yibi:
        return sum(c.amount for c in self.contributions)

    @property
    def missing(self) -> Yibi:
        """How far the pool is from the price."""
        return max(self.price - self.raised, 0)


def start(pool_id: str, item_id: int, price: Yibi, now: float) -> Pool:
    if price <= 0:
        raise ValueError("a pooled item costs more than nothing")
    return Pool(pool_id, item_id, price, now)


def join(
    pool: Pool,
    volunteer_id: str,
    name: str,
    amount: Yibi,
    available: Yibi,
    spend_limit: Yibi | None,
    now: float,
) -> Pool | PoolRefusal:
    """The pool with this volunteer's share added, or why not.

    ``available`` is their balance less open holds; ``spend_limit`` what the offline rules
    still allow them today (None online). A share never exceeds what is still missing,
    so a pool is never overfunded.
    """
    pool = timed_out(pool, now)
    if pool.state is not PoolState.OPEN:
        return PoolRefusal.CLOSED
    if any(c.volunteer_id == volunteer_id for c in pool.contributions):
        return PoolRefusal.ALREADY_IN
    if len(pool.contributions) >= MAX_CONTRIBUTORS:
        return PoolRefusal.FULL
    most = min(available, pool.missing, spend_limit if spend_limit is not None else available)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= most:
        return PoolRefusal.NOT_A_WHOLE_AMOUNT
    joined = dataclasses.replace(
        pool, contributions=(*pool.contributions, Contribution(volunteer_id, name, amount))
    )
    return dataclasses.replace(joined, state=PoolState.FUNDED) if joined.missing == 0 else joined


def timed_out(pool: Pool, now: float, wait_s: float = POOL_S) -> Pool:
    """An open pool past its time is released: nobody is charged."""
    if pool.state is PoolState.OPEN and now - pool.started_at > wait_s:
        return dataclasses.replace(pool, state=PoolState.TIMED_OUT)
    return pool


def cancel(pool: Pool) -> Pool:
    return dataclasses.replace(pool, state=PoolState.CANCELLED) if pool.state is PoolState.OPEN else pool


def charges(pool: Pool) -> tuple[Contribution, ...]:
    """What to charge, each share as its own ledger entry under the pool's id — only for a
    funded pool; an open, cancelled or timed-out one charges nobody."""
    return pool.contributions if pool.state is PoolState.FUNDED else ()
