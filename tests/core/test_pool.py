"""合力兑换's rules: shares up to what is missing, funded all at once or nobody charged."""

from __future__ import annotations

from kiosk.core.pool import POOL_S, PoolRefusal, PoolState, cancel, charges, join, start, timed_out


def test_the_storys_seven_volunteers_fund_560_bottles_of_water_together() -> None:
    bottles, each = 560, 20
    pool = start("P1", item_id=9, price=bottles * each, now=0)
    shares = [2000, 2000, 1600, 1600, 1600, 1200, 1200]
    assert sum(shares) == 11_200
    for i, share in enumerate(shares):
        assert pool.state is PoolState.OPEN and charges(pool) == ()  # nobody charged before it is funded
        joined = join(pool, f"V{i}", f"志愿者{i}", share, available=5000, spend_limit=None, now=10 * i)
        assert not isinstance(joined, PoolRefusal)
        pool = joined
    assert pool.state is PoolState.FUNDED and pool.raised == 11_200 and pool.missing == 0
    assert [c.amount for c in charges(pool)] == shares  # each share its own entry, all together
    assert join(pool, "V9", "晚到", 1, 100, None, 100) is PoolRefusal.CLOSED


def test_a_share_is_whole_within_the_balance_the_offline_cap_and_what_is_missing() -> None:
    pool = start("P2", 9, 100, now=0)
    for amount, available, cap in (
        (0, 50, None),
        (-5, 50, None),
        (60, 50, None),
        (40, 50, 30),
        (101, 500, None),
    ):
        assert join(pool, "V1", "赵小明", amount, available, cap, 1) is PoolRefusal.NOT_A_WHOLE_AMOUNT
    assert join(pool, "V1", "赵小明", True, 50, None, 1) is PoolRefusal.NOT_A_WHOLE_AMOUNT  # type: ignore[arg-type]
    half = join(pool, "V1", "赵小明", 60, 100, None, 1)
    assert not isinstance(half, PoolRefusal) and half.missing == 40
    assert join(half, "V1", "赵小明", 10, 100, None, 2) is PoolRefusal.ALREADY_IN
    assert join(half, "V2", "钱秀英", 41, 100, None, 2) is PoolRefusal.NOT_A_WHOLE_AMOUNT  # never overfunded


def test_a_pool_that_times_out_or_is_cancelled_charges_nobody() -> None:
    pool = join(start("P3", 9, 100, now=0), "V1", "赵小明", 60, 100, None, 1)
    assert not isinstance(pool, PoolRefusal)
    late = timed_out(pool, POOL_S + 1)
    assert late.state is PoolState.TIMED_OUT and charges(late) == ()
    assert join(pool, "V2", "钱秀英", 40, 100, None, POOL_S + 1) is PoolRefusal.CLOSED
    stopped = cancel(pool)
    assert stopped.state is PoolState.CANCELLED and charges(stopped) == ()
    assert timed_out(pool, POOL_S).state is PoolState.OPEN
