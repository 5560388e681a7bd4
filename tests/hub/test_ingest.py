"""The hub's rules for a pushed event, with no database: limits, digests, reversals, repeats."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter

from hub.ingest import (
    AHEAD_S,
    EARLIEST_AT,
    MAX_AMOUNT_ENV,
    Charge,
    EventLimits,
    Facts,
    JudgedEvent,
    Verdict,
    digest,
    judge,
)
from protocol.sync import Event, Refused, StatusEvent

NOW = 1_795_000_000
EVENT: TypeAdapter[Event] = TypeAdapter(Event)
APPLY = Verdict(True)


def event(kind: str = "redemption", **fields: Any) -> JudgedEvent:
    raw: dict[str, Any] = {"id": str(uuid.uuid4()), "kind": kind, "at": NOW - 60}
    if kind == "audit":
        raw["body"] = {"actor": "T1", "action": "lane_changed", "target": "lane:1"}
    else:
        raw.update(volunteer_id="V1", amount=15)
    raw.update(fields)
    parsed = EVENT.validate_python(raw)
    assert not isinstance(parsed, StatusEvent)
    return parsed


DEFAULT = EventLimits()


def one(
    e: JudgedEvent, facts: Facts | None = None, limits: EventLimits = DEFAULT, kiosk: str = "K1"
) -> Verdict:
    facts = facts if facts is not None else Facts(unknown={"V404"})
    ((verdict,),) = judge([(kiosk, [(e, digest(e))])], facts, limits, NOW)
    return verdict


def test_the_limit_comes_from_the_environment_and_a_bad_one_is_named() -> None:
    assert EventLimits.from_env({}).max_amount == 10_000
    assert EventLimits.from_env({MAX_AMOUNT_ENV: " 500 "}).max_amount == 500
    for bad in ("0", "-5", "ten", "1.5", str(2**31), "１０"):
        with pytest.raises(ValueError, match=MAX_AMOUNT_ENV):
            EventLimits.from_env({MAX_AMOUNT_ENV: bad})


def test_an_amount_over_the_limit_is_refused_and_the_limit_itself_is_fine() -> None:
    limits = EventLimits(max_amount=100)
    assert one(event(amount=100), limits=limits) == APPLY
    assert one(event(amount=101), limits=limits) == Verdict(False, Refused.AMOUNT_OVER_LIMIT)
    assert one(event(amount=2**31 - 1)) == Verdict(False, Refused.AMOUNT_OVER_LIMIT)


@pytest.mark.parametrize(
    ("at", "fine"),
    [
        (NOW, True),
        (NOW - 60 * 86_400, True),  # an offline kiosk's event, two months late
        (NOW + AHEAD_S, True),  # a clock a day fast
        (NOW + AHEAD_S + 1, False),
        (NOW + 3 * 365 * 86_400, False),  # years ahead
        (EARLIEST_AT, True),
        (EARLIEST_AT - 1, False),  # a kiosk whose clock lost its time
        (0, False),
    ],
)
def test_a_time_out_of_the_window_is_refused(at: int, fine: bool) -> None:
    for kind in ("redemption", "audit"):
        expected = APPLY if fine else Verdict(False, Refused.AT_OUT_OF_WINDOW)
        assert one(event(kind, at=at)) == expected


def test_a_volunteer_the_hub_does_not_know_is_refused() -> None:
    assert one(event(volunteer_id="V404")) == Verdict(False, Refused.UNKNOWN_VOLUNTEER)
    charge = event()
    facts = Facts(unknown={"V404"}, charges={charge.id: Charge("K1", "V404", 15, reversed=False)})
    stranger = event("reversal", volunteer_id="V404", reverses=charge.id)
    assert one(stranger, facts) == Verdict(False, Refused.UNKNOWN_VOLUNTEER)


def test_a_reversal_must_name_this_kiosks_charge_of_this_volunteer_for_at_most_its_amount_once() -> None:
    charge = event(amount=15)

    def facts(reversed: bool = False) -> Facts:
        return Facts(charges={charge.id: Charge("K1", "V1", 15, reversed)})

    assert one(event("reversal", reverses=charge.id), facts()) == APPLY
    assert one(event("reversal", amount=5, reverses=charge.id), facts()) == APPLY  # a part of it
    assert one(event("reversal"), facts()) == Verdict(False, Refused.CHARGE_NOT_NAMED)  # protocol 2
    unknown = event("reversal", reverses=str(uuid.uuid4()))
    assert one(unknown, facts()) == Verdict(False, Refused.NO_SUCH_CHARGE)
    other_kiosk = event("reversal", reverses=charge.id)
    assert one(other_kiosk, facts(), kiosk="K2") == Verdict(False, Refused.NO_SUCH_CHARGE)
    other_person = event("reversal", volunteer_id="V2", reverses=charge.id)
    assert one(other_person, facts()) == Verdict(False, Refused.NO_SUCH_CHARGE)
    more = event("reversal", amount=16, reverses=charge.id)
    assert one(more, facts()) == Verdict(False, Refused.REVERSAL_EXCEEDS_CHARGE)
    again = event("reversal", reverses=charge.id)
    assert one(again, facts(reversed=True)) == Verdict(False, Refused.ALREADY_REVERSED)


def test_a_charge_and_its_reversal_in_one_group_see_each_other() -> None:
    charge = event(amount=15)
    back = event("reversal", reverses=charge.id)
    twice = event("reversal", reverses=charge.id)
    foreign = event("reversal", reverses=charge.id)
    group = [("K1", [(charge, digest(charge)), (back, digest(back))]), ("K2", [(foreign, digest(foreign))])]
    group.append(("K1", [(twice, digest(twice))]))
    verdicts = judge(group, Facts(unknown={"V404"}), EventLimits(), NOW)
    assert verdicts == [
        [APPLY, APPLY],
        [Verdict(False, Refused.NO_SUCH_CHARGE)],
        [Verdict(False, Refused.ALREADY_REVERSED)],
    ]


def test_the_digest_ignores_spelling_and_the_kiosks_own_id_and_sees_every_change() -> None:
    eid = str(uuid.uuid4())
    base = {"id": eid, "kind": "redemption", "volunteer_id": "V1", "amount": 15, "at": NOW, "item_id": 3}
    same = [
        dict(reversed(list(base.items()))),  # another key order
        {**base, "id": eid.upper()},  # the same UUID in capitals
        {**base, "item_name": None, "lane": None},  # null or left out
        {**base, "kiosk_id": "K1"},  # the hub takes the kiosk from the token
    ]
    first = digest(EVENT.validate_python(base))  # type: ignore[arg-type]
    assert len(first) == 64
    assert all(digest(EVENT.validate_python(e)) == first for e in same)  # type: ignore[arg-type]
    changed = [{**base, "amount": 16}, {**base, "at": NOW + 1}, {**base, "item_id": 4}, {**base, "lane": 1}]
    assert all(digest(EVENT.validate_python(e)) != first for e in changed)  # type: ignore[arg-type]


def test_a_repeat_is_a_duplicate_other_content_a_conflict_and_a_refusal_is_repeated() -> None:
    e = event()
    dg = digest(e)
    assert one(e, Facts(applied={e.id: (7, dg)})) == Verdict(False, None, True)
    assert one(e, Facts(applied={e.id: (7, None)})) == Verdict(False, None, True)
    assert one(e, Facts(applied={e.id: (7, "0" * 64)})) == Verdict(False, Refused.CONFLICT)
    before = Facts(refused={(e.id, dg): "unknown_volunteer"})
    assert one(e, before) == Verdict(False, "unknown_volunteer", True)  # the volunteer came since: still
    # a repeat of an applied event is judged by no limit of today's (the limit was lowered since)
    assert one(e, Facts(applied={e.id: (7, dg)}), limits=EventLimits(max_amount=1)) == Verdict(
        False, None, True
    )


def test_within_one_group_the_first_of_an_id_wins() -> None:
    e = event()
    other = EVENT.validate_python({**e.model_dump(exclude_none=True), "amount": 16})
    stranger = event(volunteer_id="V404")
    group = [("K1", [(e, digest(e)), (e, digest(e))]), ("K2", [(other, digest(other))])]  # type: ignore[list-item]
    group.append(("K1", [(stranger, digest(stranger)), (stranger, digest(stranger))]))
    verdicts = judge(group, Facts(unknown={"V404"}), EventLimits(), NOW)
    assert verdicts == [
        [APPLY, Verdict(False, None, True)],
        [Verdict(False, Refused.CONFLICT)],
        [Verdict(False, Refused.UNKNOWN_VOLUNTEER), Verdict(False, Refused.UNKNOWN_VOLUNTEER, True)],
    ]


def test_an_audit_entrys_digest_ignores_the_order_of_its_before_and_after() -> None:
    body = {
        "actor": "T1",
        "action": "lane_changed",
        "target": "lane:1",
        "before": {"stock": 2, "enabled": True},
    }
    turned = {**body, "before": {"enabled": True, "stock": 2}}
    one_way, other_way = (
        event("audit", id="6f1c2f0e-1d2a-4c3b-9e4f-5a6b7c8d9e0f", body=b) for b in (body, turned)
    )
    assert digest(one_way) == digest(other_way)
    assert digest(one_way) != digest(event("audit", id=one_way.id, body={**body, "before": {"stock": 3}}))
