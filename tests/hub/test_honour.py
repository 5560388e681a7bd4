"""光荣榜: a community's and a street's top volunteers by certified hours, names masked, an
opt-out honoured, each volunteer's own standing, and a board sent only when it changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hub import sync
from hub.cli import main
from hub.console import store
from hub.console.rules import Level
from hub.db import MIGRATIONS, open_engine
from hub.kek import Kek
from hub.models import HoursMonth
from hub.service import Hub
from protocol.honour import Hours, standings, top
from protocol.sqlite import run_migrations

NOV_10 = 1_794_286_800  # 2026-11-10 13:00 in the city (UTC+8)


def hours_file(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    lines = ["record_id,volunteer_id,name,hours,activity,certified_on"]
    lines += [f"{r},{v},{n},{h},助老,{d}" for r, v, n, h, d in rows]
    return ("\n".join(lines) + "\n").encode()


def test_the_top_ten_are_masked_with_equal_hours_by_id_and_none_without_hours() -> None:
    rows = [Hours(f"V{i:02d}", f"志愿者{i}", 10 * (i % 4)) for i in range(1, 15)]
    shown = top(rows)
    assert len(shown) == 10 and all(name == "志***" for name, _ in shown)
    assert [t for _, t in shown] == [30, 30, 30, 20, 20, 20, 20, 10, 10, 10]
    assert top([Hours("V1", "赵小明", 0)]) == []
    assert standings([Hours("V2", "b", 25), Hours("V1", "a", 25), Hours("V3", "c", 5)]) == [
        ("V1", 25, 1),
        ("V2", 25, 1),
        ("V3", 5, 3),
    ]


@pytest.fixture
def city(hub: Hub) -> tuple[Hub, str]:
    """A street with two communities, a kiosk in one, volunteers placed in both."""
    hub.clock = lambda: NOV_10  # type: ignore[method-assign]
    store.add_org(hub, "浦东新区", Level.DISTRICT, None)
    store.add_org(hub, "花木街道", Level.STREET, "浦东新区")
    store.add_org(hub, "牡丹社区", Level.COMMUNITY, "浦东新区/花木街道")
    store.add_org(hub, "钻石社区", Level.COMMUNITY, "浦东新区/花木街道")
    kiosk = hub.add_kiosk("牡丹一号")["kiosk_id"]
    store.place_kiosk(hub, kiosk, "浦东新区/花木街道/牡丹社区")
    hub.import_hours(
        hours_file(
            [
                ("R1", "V1", "赵小明", "12", "2026-11-03"),
                ("R2", "V2", "钱秀英", "8", "2026-11-04"),
                ("R3", "V2", "钱秀英", "20", "2026-10-04"),  # last month: all time only
                ("R4", "V3", "孙", "20", "2026-11-05"),
                ("R5", "V4", "李四", "2.5", "2026-11-06"),
            ]
        )
    )
    for vid in ("V1", "V2", "V4"):
        store.place_volunteer(hub, "test", vid, "浦东新区/花木街道/牡丹社区")
    store.place_volunteer(hub, "test", "V3", "浦东新区/花木街道/钻石社区")
    return hub, kiosk


def test_import_adds_hours_by_month_of_service_once(city: tuple[Hub, str]) -> None:
    hub, _ = city
    with hub.reading() as s:
        months = {(m.volunteer_id, m.month): m.tenths for m in s.scalars(select(HoursMonth))}
    assert months == {
        ("V1", 202611): 120,
        ("V2", 202611): 80,
        ("V2", 202610): 200,
        ("V3", 202611): 200,
        ("V4", 202611): 25,
    }
    hub.import_hours(hours_file([("R1", "V1", "赵小明", "12", "2026-11-03")]))  # a duplicate
    with hub.reading() as s:
        assert s.get(HoursMonth, ("V1", 202611)).tenths == 120  # type: ignore[union-attr]


def test_a_kiosk_gets_its_community_and_streets_roll_and_each_volunteers_standing(
    city: tuple[Hub, str],
) -> None:
    hub, kiosk = city
    board = sync.pull(hub, 0, kiosk_id=kiosk).honour
    assert board is not None and board.month == 202611
    assert (board.community, board.street) == ("牡丹社区", "花木街道")
    assert board.community_month == [("赵**", 120), ("钱**", 80), ("李*", 25)]
    assert board.community_all == [("钱**", 280), ("赵**", 120), ("李*", 25)]
    assert board.street_month == [("孙*", 200), ("赵**", 120), ("钱**", 80), ("李*", 25)]
    assert board.standings == [("V1", 120, 1), ("V2", 80, 2), ("V4", 25, 3)]
    text = board.model_dump_json()
    assert "赵小明" not in text and "balance" not in text  # masked; no balance ever
    # unchanged: a pull naming it gets no board; a kiosk in no place gets none
    assert sync.pull(hub, 0, kiosk_id=kiosk, honour_stamp=board.stamp).honour is None
    assert sync.pull(hub, 0, kiosk_id=hub.add_kiosk("未分配")["kiosk_id"]).honour is None

    store.rank_volunteer(hub, "test", "V1", False)  # opts out: on no list, no standing
    after = sync.pull(hub, 0, kiosk_id=kiosk, honour_stamp=board.stamp).honour
    assert after is not None and after.stamp != board.stamp
    assert all(name != "赵**" for name, _ in after.community_month + after.street_all)
    assert [vid for vid, _, _ in after.standings] == ["V2", "V4"]


def test_new_hours_reach_the_board_with_the_next_pull(city: tuple[Hub, str]) -> None:
    hub, kiosk = city
    board = sync.pull(hub, 0, kiosk_id=kiosk).honour
    assert board is not None
    hub.import_hours(hours_file([("R9", "V4", "李四", "15", "2026-11-09")]))
    newer = sync.pull(hub, 0, kiosk_id=kiosk, honour_stamp=board.stamp).honour
    assert newer is not None and newer.community_month[0] == ("李*", 175)


def test_the_command_line_places_and_ranks_a_volunteer(
    hub_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", hub_url, "org", "add", "浦东新区", "--level", "district"]) == 0
    assert main(["--db", hub_url, "org", "add", "花木街道", "--level", "street", "--in", "浦东新区"]) == 0
    engine = open_engine(hub_url)
    try:
        Hub(engine, kek=Kek.generate()).import_hours(hours_file([("R1", "V1", "赵小明", "2", "2026-11-03")]))
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["--db", hub_url, "volunteer", "place", " V1 ", "--in", "浦东新区/花木街道"]) == 0
    assert json.loads(capsys.readouterr().out) == {"volunteer_id": "V1", "in": "浦东新区/花木街道"}
    assert main(["--db", hub_url, "volunteer", "rank", "V1", "--off"]) == 0
    assert json.loads(capsys.readouterr().out) == {"volunteer_id": "V1", "ranked": False}
    assert main(["--db", hub_url, "volunteer", "place", "V1", "--in", "浦东新区"]) == 2
    assert "a community or a street" in capsys.readouterr().err
    assert main(["--db", hub_url, "volunteer", "rank", "V404", "--on"]) == 2
    assert "No such volunteer" in capsys.readouterr().err


def test_the_migration_counts_the_hours_already_credited(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        run_migrations(engine, MIGRATIONS, "h0010")
        with engine.begin() as con:
            con.execute(
                text(
                    "INSERT INTO ledger (id, volunteer_id, kind, amount, record_id, note, at) VALUES "
                    "('a', 'V1', 'credit', 25, 'R1', '2.5 h · 助老 · 2026-11-01', 0),"
                    "('b', 'V1', 'credit', 120, 'R2', '12 h · 助残 · 2026-11-20', 0),"
                    "('c', 'V1', 'credit', 10, 'R3', 'an older note', 0)"
                )
            )
        run_migrations(engine, MIGRATIONS)
        with engine.connect() as con:
            found = list(con.execute(text("SELECT volunteer_id, month, tenths FROM hours_months")))
        assert found == [("V1", 202611, 145)]
    finally:
        engine.dispose()
