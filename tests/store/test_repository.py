"""The store on a real SQLite file: migrations, durability settings, the ledger's rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from drivers.machine import DispenseResult, Flag, Outcome
from kiosk.core.ledger import balance_of
from kiosk.core.rules import Limits, Refusal
from kiosk.services.store import Refused, Store
from kiosk.store.db import migrate, open_engine
from kiosk.store.models import Base
from protocol.codes import CodeReason
from tests.helpers import KioskWorld, make_world


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "k.db")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_store_from_before_card_pins_asks_the_hub_for_every_one_once(tmp_path: Path) -> None:
    from kiosk.store.uow import SqlUnitsOfWork

    engine = open_engine(tmp_path / "k.db")
    migrate(engine, "0006")
    with engine.begin() as conn:  # a kiosk that synced under protocol 3
        conn.exec_driver_sql("INSERT INTO settings (key, value) VALUES ('sync_cursor', '5000')")
    migrate(engine)
    store = Store(SqlUnitsOfWork(engine))
    assert store.sync_cursor() == 5000 and store.card_pins_cursor() == 0 and store.card_pin("V1") is None
    engine.dispose()


def test_the_file_is_wal_with_full_sync(world: KioskWorld) -> None:
    with world.parts.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_ledger_and_audit_are_append_only(world: KioskWorld) -> None:
    db = sqlite3.connect(world.config.db_path)
    for sql in ("UPDATE ledger SET amount = 1", "DELETE FROM ledger", "DELETE FROM audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
    db.close()


def _lane_of(repo: Store, name: str) -> tuple[int, int]:
    item = next(i for i in repo.items() if i.name_en == name)
    lane = next(lane for lane in repo.lanes() if lane.item_id == item.id)
    return item.id, lane.number


def test_hold_charge_and_the_derived_balance(world: KioskWorld) -> None:
    repo = world.parts.store
    item, lane = _lane_of(repo, "Tissues")
    start = repo.balance("V0001")
    stock = next(x.stock for x in repo.lanes() if x.number == lane)
    hold = repo.place_hold("V0001", item, lane, "visit", Limits())
    assert repo.balance("V0001").available == start.available - 15
    assert repo.balance("V0001").settled == start.settled
    after = repo.settle(hold, DispenseResult(Outcome.DISPENSED, lane))
    assert after.settled == start.settled - 15 and after.held == 0
    assert balance_of(repo.entries("V0001")) == after  # SQL and the core agree
    assert next(x.stock for x in repo.lanes() if x.number == lane) == stock - 1


def test_a_hold_is_settled_once_only(world: KioskWorld) -> None:
    repo = world.parts.store
    item, lane = _lane_of(repo, "Tissues")
    hold = repo.place_hold("V0001", item, lane, "visit", Limits())
    repo.settle(hold, DispenseResult(Outcome.DISPENSED, lane))
    with pytest.raises(RuntimeError, match="already settled"):
        repo.settle(hold, DispenseResult(Outcome.NOT_DISPENSED, lane))
    # and the database itself refuses a second settling entry
    db = sqlite3.connect(world.config.db_path)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO ledger (id, volunteer_id, kind, amount, ref, at, day) "
            "VALUES ('x', 'V0001', 'release', 15, ?, 0, 'd')",
            (hold.hold_id,),
        )
    db.close()


def test_a_jam_releases_the_hold_and_disables_the_lane(world: KioskWorld) -> None:
    repo = world.parts.store
    item, lane = _lane_of(repo, "Tissues")
    before = repo.balance("V0001")
    hold = repo.place_hold("V0001", item, lane, "visit", Limits())
    after = repo.settle(hold, DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.MOTOR_DID_NOT_TURN,)))
    assert after == before
    state = next(x for x in repo.lanes() if x.number == lane)
    assert not state.enabled
    assert "motor_did_not_turn" in repo.lane_faults()[lane]
    with pytest.raises(Refused) as refused:
        repo.place_hold("V0001", item, lane, "visit", Limits())
    assert refused.value.reason is Refusal.MACHINE_FAULT


def test_an_unknown_outcome_keeps_the_hold(world: KioskWorld) -> None:
    repo = world.parts.store
    item, lane = _lane_of(repo, "Tissues")
    before = repo.balance("V0001")
    hold = repo.place_hold("V0001", item, lane, "visit", Limits())
    after = repo.settle(hold, DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,)))
    assert after.settled == before.settled and after.held == 15
    assert repo.recent_redemptions()[0].state == "unknown"


def test_holds_refuse_overspending_inside_the_transaction(world: KioskWorld) -> None:
    repo = world.parts.store  # V0004 has 10 益币
    item, lane = _lane_of(repo, "Tissues")
    with pytest.raises(Refused) as refused:
        repo.place_hold("V0004", item, lane, "visit", Limits())
    assert refused.value.reason is Refusal.INSUFFICIENT_BALANCE


def test_the_daily_cap_counts_charged_and_held_items(world: KioskWorld) -> None:
    repo = world.parts.store
    item, lane = _lane_of(repo, "Tissues")
    limits = Limits(per_item_per_day=2)
    h1 = repo.place_hold("V0001", item, lane, "v", limits)
    repo.settle(h1, DispenseResult(Outcome.DISPENSED, lane))
    repo.place_hold("V0001", item, lane, "v", limits)
    with pytest.raises(Refused) as refused:
        repo.place_hold("V0001", item, lane, "v", limits)
    assert refused.value.reason is Refusal.DAILY_ITEM_CAP
    world.clock.advance(86400)
    repo.place_hold("V0001", item, lane, "v", limits)  # a new day


def test_price_changes_land_in_the_audit_log(world: KioskWorld) -> None:
    repo = world.parts.store
    item, _ = _lane_of(repo, "Tissues")
    repo.update_item("T001", item, price=18)
    entry = repo.audit_log()[0]
    assert (entry.actor, entry.action, entry.target) == ("T001", "item_changed", f"item:{item}")
    assert entry.before == '{"price": 15}' and entry.after == '{"price": 18}'
    with pytest.raises(ValueError):
        repo.update_item("T001", item, price=0)


def test_lane_edits_are_checked_and_audited(world: KioskWorld) -> None:
    repo = world.parts.store
    with pytest.raises(ValueError):
        repo.update_lane("T001", 1, stock=99)
    repo.update_lane("T001", 1, stock=3)
    repo.refill("T001")
    actions = [a.action for a in repo.audit_log(20)]
    assert actions[:1] == ["lane_refilled"] and "lane_changed" in actions
    assert all(lane.stock == lane.capacity for lane in repo.lanes())


def test_replay_memory_survives_a_restart(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    code = world.code("app")
    assert world.parts.service.scan(code).volunteer is not None
    world.parts.close()
    again = make_world(tmp_path)  # same file, new process state
    try:
        result = again.parts.service.scan(code)
        assert result.notice is not None and result.notice.key == CodeReason.REPLAYED.value
    finally:
        again.parts.close()


def test_volunteer_ids_are_unique(world: KioskWorld) -> None:
    from sqlalchemy import insert

    from kiosk.store.models import VolunteerRow

    with pytest.raises(IntegrityError), world.parts.store.units.writing() as uow:
        uow.session.execute(insert(VolunteerRow).values(id="V0001", name="dup"))


def test_a_seen_code_is_remembered_at_once_and_on_disk_after_the_flush(world: KioskWorld) -> None:
    repo = world.parts.store

    def on_disk() -> int:
        db = sqlite3.connect(world.config.db_path)
        try:
            return int(db.execute("SELECT count(*) FROM seen_codes WHERE jti = 'j1'").fetchone()[0])
        finally:
            db.close()

    assert repo.accept_once("j1", 2_000_000_000, 0)
    assert not repo.accept_once("j1", 2_000_000_000, 0)  # remembered before the flush
    assert on_disk() == 0
    repo.flush_seen()
    assert on_disk() == 1
    assert not repo.accept_once("j1", 2_000_000_000, 0)


def test_a_vend_makes_the_scanned_code_durable_first(world: KioskWorld) -> None:
    service = world.parts.service
    assert service.scan(world.code("app")).volunteer is not None
    item = next(i for i in world.parts.store.items() if i.name_en == "Tissues")
    service.vend("V0001", item, "visit")
    db = sqlite3.connect(world.config.db_path)
    assert db.execute("SELECT count(*) FROM seen_codes").fetchone()[0] == 1
    db.close()


def test_a_technician_change_queues_its_audit_event_in_the_same_transaction(world: KioskWorld) -> None:
    repo = world.parts.store
    before = {e["id"] for e in repo.pending_events()}
    repo.update_lane("T001", 1, stock=3)
    (event,) = [e for e in repo.pending_events() if e["id"] not in before]
    assert event["kind"] == "audit" and "volunteer_id" not in event
    assert event["body"]["actor"] == "T001" and event["body"]["action"] == "lane_changed"
    assert event["body"]["after"] == {"stock": 3}


def test_technicians_from_the_hub_replace_ours_and_keep_a_lockout(world: KioskWorld) -> None:
    from kiosk.core.people import PinState, hash_pin

    repo = world.parts.store
    repo.save_pin_state("T001", PinState(5, 1_800_000_000.0), "pin_locked")
    page = {
        "cursor": repo.sync_cursor(),
        "technicians": [
            {"id": "T001", "name": "王师傅", "pin_hash": hash_pin("9999")},
            {"id": "T002", "name": "刘师傅", "pin_hash": hash_pin("2468")},
        ],
    }
    repo.apply_pull(page)
    t1, t2 = repo.technician_pin("T001"), repo.technician_pin("T002")
    assert t1 is not None and t1[1].failures == 5 and t1[1].locked_until == 1_800_000_000
    assert t2 is not None and t2[1].failures == 0
    repo.apply_pull({"cursor": repo.sync_cursor(), "technicians": page["technicians"][1:]})
    assert repo.technician_pin("T001") is None  # removed at the hub
    repo.apply_pull({"cursor": repo.sync_cursor(), "technicians": []})  # nothing sent: nothing changes
    assert repo.technician_pin("T002") is not None


def test_the_status_report_names_stock_faults_and_sync_state(world: KioskWorld) -> None:
    repo = world.parts.store
    lane = repo.lanes()[0]
    repo.update_lane("T001", lane.number, stock=2)
    report = repo.status_report()
    first = next(entry for entry in report["lanes"] if entry["lane"] == lane.number)
    assert first["stock"] == 2 and first["capacity"] == lane.capacity and first["fault"] is None
    assert report["in_doubt"] == 0 and report["queued_events"] >= 1 and report["last_good_sync"] is None


def test_a_refund_gives_the_charge_back_once_and_goes_up_as_a_reversal(world: KioskWorld) -> None:
    repo, service = world.parts.store, world.parts.service
    tissues = next(i for i in repo.items() if i.name_en == "Tissues")
    before = repo.balance("V0001").available
    service.vend("V0001", tissues, "visit")
    (sold,) = [r for r in repo.recent_redemptions() if r.state == "dispensed"]
    stock = {lane.number: lane.stock for lane in repo.lanes()}
    assert repo.refund("T001", sold.vend_id).available == before
    assert [r.state for r in repo.recent_redemptions()] == ["refunded"]
    assert {lane.number: lane.stock for lane in repo.lanes()} == stock  # the item stays gone
    with pytest.raises(LookupError):
        repo.refund("T001", sold.vend_id)  # once
    kinds = [(e["kind"], e.get("amount")) for e in repo.pending_events() if e["kind"] != "audit"]
    assert kinds == [("redemption", tissues.price), ("reversal", tissues.price)]
    assert repo.audit_log(1)[0].action == "vend_refunded"
    db = sqlite3.connect(world.config.db_path)
    charge_id, volunteer = db.execute("SELECT id, volunteer_id FROM ledger WHERE kind = 'charge'").fetchone()
    with pytest.raises(sqlite3.IntegrityError):  # the store itself refuses a second reversal
        db.execute(
            "INSERT INTO ledger (id, volunteer_id, kind, amount, ref, at, day) "
            "VALUES ('x', ?, 'reversal', 15, ?, 0, '2026-11-23')",
            (volunteer, charge_id),
        )
    db.close()


def test_a_scan_reads_while_a_writer_holds_the_store(world: KioskWorld) -> None:
    """A sync storing a page holds the write lock; the volunteer lookup must not wait for it."""
    repo = world.parts.store
    writer = sqlite3.connect(world.config.db_path, isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE volunteers SET hub_balance = hub_balance + 1000 WHERE id = 'V0001'")
    try:
        person = repo.volunteer("V0001")  # with BEGIN IMMEDIATE this waited, then failed
        assert person is not None and person.available == 260  # the snapshot before the writer
        assert len(repo.lanes()) == 8 and repo.sync_cursor() == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
