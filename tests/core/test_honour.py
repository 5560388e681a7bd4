"""The honour roll as the kiosk reads it: plain values from the hub's board, a volunteer's
own standing, hours as people write them."""

from __future__ import annotations

from kiosk.core.honour import HonourRoll, Standing, hours, roll, standings

BOARD = {
    "stamp": "abc",
    "month": 202611,
    "community": "牡丹社区",
    "street": "花木街道",
    "community_month": [["赵**", 260], ["周**", 180]],
    "community_all": [["周**", 580]],
    "street_month": [],
    "street_all": [],
    "standings": [["V0001", 260, 1], ["V0101", 180, 2]],
}


def test_a_board_reads_into_a_roll_and_each_volunteers_standing() -> None:
    shown = roll(BOARD)
    assert shown == HonourRoll(
        202611, "牡丹社区", "花木街道", (("赵**", 260), ("周**", 180)), (("周**", 580),)
    )
    assert shown.shown and not HonourRoll(202611, None, "花木街道").shown
    assert standings(BOARD) == {"V0001": Standing(260, 1, "牡丹社区"), "V0101": Standing(180, 2, "牡丹社区")}
    assert roll(None) is None and standings(None) == {} and standings({}) == {}


def test_hours_are_written_as_people_write_them() -> None:
    assert [hours(t) for t in (0, 10, 25, 120, 1005)] == ["0", "1", "2.5", "12", "100.5"]
