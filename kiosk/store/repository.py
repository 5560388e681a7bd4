"""Every read and write of the kiosk's store, one unit of work per method.

Each method opens its own session, runs in one ``BEGIN IMMEDIATE`` transaction, commits
only when it finished, and returns frozen core dataclasses; methods that only read use a
deferred transaction (a WAL snapshot), so a scan never waits behind a sync's page. Writes that spend 益币
re-check the rules inside the transaction (balance after holds, stock, the lane being
enabled, the daily cap), so a stale screen can never overspend. Technician changes
write an audit row with before and after in the same transaction.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, func, literal_column, select
from sqlalchemy.orm import Session, sessionmaker

from drivers.machine import JAM_FLAGS, DispenseResult, Flag, Outcome

from ..core.catalog import Item, Lane, Offer, build_offers
from ..core.ledger import Balance, Entry, EntryKind, balance_of, taken_on
from ..core.offline import OfflinePolicy
from ..core.people import PinState, Volunteer
from ..core.records import AuditEntry, HoldPlaced, InDoubt, Redemption
from ..core.rules import Limits, Refusal
from .db import reader
from .models import (
    AuditRow,
    ItemRow,
    LaneRow,
    LedgerRow,
    OutboxRow,
    RevokedCardRow,
    SeenCodeRow,
    SettingRow,
    TechnicianRow,
    TrustKeyRow,
    VendRow,
    VolunteerRow,
)

DISABLING_FLAGS = JAM_FLAGS | {Flag.NOTHING_DROPPED}
_PUSHED = {EntryKind.CHARGE: "redemption", EntryKind.REVERSAL: "reversal"}
"""Entries that go up to the hub, each as its own event, and the event's kind."""


_UPSERT_VOLUNTEERS = (
    "INSERT INTO volunteers (id, name, hub_balance) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name{balance}"
)


def _upsert_volunteers(s: Session, rows: list[tuple[str, str, int]], balances: bool) -> None:
    """Insert or update many volunteers in one ``executemany`` (a first sync brings millions).

    Plain SQL with positional rows: SQLAlchemy's per-row parameter processing cost more
    than SQLite's own work here (``bench/first_sync.py``).
    """
    if rows:
        balance = ", hub_balance = excluded.hub_balance" if balances else ""
        s.connection().exec_driver_sql(_UPSERT_VOLUNTEERS.format(balance=balance), rows)


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _item(row: ItemRow) -> Item:
    return Item(row.id, row.name_zh, row.name_en, row.price, row.image)


def _lane(row: LaneRow) -> Lane:
    return Lane(row.number, row.item_id, row.capacity, row.stock, row.enabled)


# each vend with its hold, the volunteer's name and the item's name (technician lists)
_VENDS_WITH_NAMES = (
    select(VendRow, LedgerRow, VolunteerRow.name, ItemRow.name_zh)
    .join(LedgerRow, LedgerRow.id == VendRow.hold_id)
    .outerjoin(VolunteerRow, VolunteerRow.id == LedgerRow.volunteer_id)
    .outerjoin(ItemRow, ItemRow.id == LedgerRow.item_id)
)


class Repository:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(reader(engine), expire_on_commit=False)
        self.clock = clock
        self._purged_at = 0
        self._pending_seen: dict[str, int] = {}

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: a WAL snapshot that waits for no writer."""
        with self._readers() as session, session.begin():
            yield session

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """A unit of work: commits if the block finishes, rolls back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def _now(self) -> tuple[int, str]:
        t = self.clock()
        return int(t), time.strftime("%Y-%m-%d", time.localtime(t))

    # --- volunteers and balances ---------------------------------------------------------

    def _entries(self, s: Session, volunteer_id: str) -> list[Entry]:
        """One indexed query; the arithmetic is the core's, so there is one definition of it."""
        rows = s.execute(
            select(
                LedgerRow.id,
                LedgerRow.kind,
                LedgerRow.amount,
                LedgerRow.ref,
                LedgerRow.item_id,
                LedgerRow.lane,
                LedgerRow.day,
            ).where(LedgerRow.volunteer_id == volunteer_id)
        ).all()
        return [
            Entry(i, volunteer_id, EntryKind(kind), amount, ref, item_id, lane, day)
            for i, kind, amount, ref, item_id, lane, day in rows
        ]

    SYNC_CURSOR = "sync_cursor"
    TRUST_SYNCED_AT = "trust_synced_at"

    def _cursor(self, s: Session) -> int:
        row = s.get(SettingRow, self.SYNC_CURSOR)
        return int(row.value) if row is not None else 0

    def _account(
        self, s: Session, volunteer_id: str, entries: list[Entry] | None = None, hub: int | None = None
    ) -> Balance:
        """The hub's balance as of our cursor, plus what this kiosk did that it does not reflect.

        A charge the hub applied at a sequence up to our cursor is inside ``hub_balance``
        already: it and its hold are left out of the local sum, so nothing counts twice.
        """
        entries = self._entries(s, volunteer_id) if entries is None else entries
        if hub is None:
            hub = s.scalar(select(VolunteerRow.hub_balance).where(VolunteerRow.id == volunteer_id)) or 0
        reflected: set[str] = set()
        if any(e.kind in _PUSHED for e in entries):  # only what went up is ever reflected
            reflected = set(
                s.scalars(
                    select(OutboxRow.entry_id)
                    .where(OutboxRow.volunteer_id == volunteer_id)
                    .where(OutboxRow.acked_seq.is_not(None))
                    .where(OutboxRow.acked_seq <= self._cursor(s))
                )
            )
        if reflected:
            holds = {e.ref for e in entries if e.id in reflected and e.kind is EntryKind.CHARGE}
            entries = [e for e in entries if e.id not in reflected and e.id not in holds]
        local = balance_of(entries)
        return Balance(settled=int(hub) + local.settled, held=local.held)

    def _balance(self, s: Session, volunteer_id: str) -> Balance:
        return self._account(s, volunteer_id)

    def _offline_room(
        self, s: Session, volunteer_id: str, entries: list[Entry], day: str, policy: OfflinePolicy
    ) -> int:
        """What ``policy`` still lets this volunteer spend today, counting all the hub has not seen."""
        closed = {e.ref for e in entries if e.kind in (EntryKind.CHARGE, EntryKind.RELEASE)}
        held_today = sum(
            e.amount for e in entries if e.kind is EntryKind.HOLD and e.day == day and e.id not in closed
        )
        charged_today = s.scalar(
            select(func.coalesce(func.sum(OutboxRow.amount), 0))
            .join(LedgerRow, LedgerRow.id == OutboxRow.entry_id)
            .where(OutboxRow.volunteer_id == volunteer_id)
            .where(OutboxRow.kind == "redemption")
            .where(OutboxRow.acked_seq.is_(None))
            .where(LedgerRow.day == day)
        )
        settled = select(LedgerRow.ref).where(LedgerRow.kind.in_(("charge", "release")))
        all_held = s.scalar(
            select(func.coalesce(func.sum(LedgerRow.amount), 0))
            .where(LedgerRow.kind == "hold")
            .where(LedgerRow.id.not_in(settled))
        )
        unsynced = s.scalar(  # spending only: a refund not yet seen does not make room
            select(func.coalesce(func.sum(OutboxRow.amount), 0))
            .where(OutboxRow.kind == "redemption")
            .where(OutboxRow.acked_seq.is_(None))
        )
        return policy.room(int(charged_today or 0) + held_today, int(unsynced or 0) + int(all_held or 0))

    def balance(self, volunteer_id: str) -> Balance:
        with self.reading() as s:
            return self._balance(s, volunteer_id)

    def volunteer(self, volunteer_id: str, offline: OfflinePolicy | None = None) -> Volunteer | None:
        """A volunteer as the screens show them; with ``offline``, their offline room too."""
        _, day = self._now()
        with self.reading() as s:
            row = s.execute(
                select(VolunteerRow.name, VolunteerRow.hub_balance).where(VolunteerRow.id == volunteer_id)
            ).first()
            if row is None:
                return None
            name, hub = row
            entries = self._entries(s, volunteer_id)
            return Volunteer(
                id=volunteer_id,
                name=name,
                available=self._account(s, volunteer_id, entries, int(hub)).available,
                taken_today=taken_on(entries, day),
                spend_limit=None
                if offline is None
                else self._offline_room(s, volunteer_id, entries, day, offline),
            )

    def entries(self, volunteer_id: str) -> list[Entry]:
        with self.reading() as s:
            return self._entries(s, volunteer_id)

    def upsert_volunteers(self, people: Iterable[tuple[str, str]]) -> None:
        with self.unit() as s:
            _upsert_volunteers(s, [(vid, name, 0) for vid, name in people], False)

    def credit(self, volunteer_id: str, amount: int, note: str = "") -> str:
        with self.unit() as s:
            return self._append(s, EntryKind.CREDIT, volunteer_id, amount, note=note or None)

    # --- catalog -------------------------------------------------------------------------

    def items(self) -> list[Item]:
        with self.reading() as s:
            return [_item(r) for r in s.scalars(select(ItemRow).order_by(ItemRow.id))]

    def lanes(self) -> list[Lane]:
        with self.reading() as s:
            return [_lane(r) for r in s.scalars(select(LaneRow).order_by(LaneRow.number))]

    def lane_faults(self) -> dict[int, str]:
        with self.reading() as s:
            rows = s.execute(select(LaneRow.number, LaneRow.fault).where(LaneRow.fault.is_not(None)))
            return {int(n): str(f) for n, f in rows}

    def offers(self) -> list[Offer]:
        with self.reading() as s:
            items = [_item(r) for r in s.scalars(select(ItemRow))]
            lanes = [_lane(r) for r in s.scalars(select(LaneRow))]
        return build_offers(items, lanes)

    # --- the lane board's sequence numbers ------------------------------------------------

    SN_KEY = "lane_board_sn"

    def _next_sn(self, s: Session) -> int:
        row = s.get(SettingRow, self.SN_KEY)
        sn = (int(row.value) % 255 + 1) if row is not None else 1
        if row is None:
            s.add(SettingRow(key=self.SN_KEY, value=str(sn)))
        else:
            row.value = str(sn)
        return sn

    def next_sn(self) -> int:
        """The next lane-board SN (1..255, never 0), on disk before it is used."""
        with self.unit() as s:
            return self._next_sn(s)

    # --- a redemption: hold, then charge or release --------------------------------------

    def place_hold(
        self,
        volunteer_id: str,
        item_id: int,
        lane: int,
        visit_id: str,
        limits: Limits,
        offline: OfflinePolicy | None = None,
    ) -> HoldPlaced:
        """Set the item's price aside and record the vend, or raise :class:`Refused`."""
        at, day = self._now()
        with self.unit() as s:
            lane_row = s.get(LaneRow, lane)
            item_row = s.get(ItemRow, item_id)
            if lane_row is None or item_row is None or lane_row.item_id != item_id:
                raise Refused(Refusal.SOLD_OUT)
            if not lane_row.enabled:
                raise Refused(Refusal.MACHINE_FAULT)
            if lane_row.stock <= 0:
                raise Refused(Refusal.SOLD_OUT)
            entries = self._entries(s, volunteer_id)
            if taken_on(entries, day).get(item_id, 0) >= limits.per_item_per_day:
                raise Refused(Refusal.DAILY_ITEM_CAP)
            if self._account(s, volunteer_id, entries).available < item_row.price:
                raise Refused(Refusal.INSUFFICIENT_BALANCE)
            if (
                offline is not None
                and self._offline_room(s, volunteer_id, entries, day, offline) < item_row.price
            ):
                raise Refused(Refusal.OFFLINE_CAP)
            hold = HoldPlaced(
                hold_id=str(uuid.uuid4()),
                vend_id=str(uuid.uuid4()),
                volunteer_id=volunteer_id,
                item_id=item_id,
                lane=lane,
                price=item_row.price,
                sn=self._next_sn(s),  # with the hold, before the frame is sent
            )
            self._append(
                s,
                EntryKind.HOLD,
                volunteer_id,
                hold.price,
                entry_id=hold.hold_id,
                item_id=item_id,
                lane=lane,
                visit_id=visit_id,
            )
            s.add(
                VendRow(
                    id=hold.vend_id,
                    hold_id=hold.hold_id,
                    lane=lane,
                    state="in_flight",
                    flags="",
                    sn=hold.sn,
                    started_at=at,
                )
            )
            return hold

    def settle(self, hold: HoldPlaced, result: DispenseResult) -> Balance:
        """Charge on a confirmed drop, release on a failure, keep the hold when unknown."""
        at, _ = self._now()
        with self.unit() as s:
            vend = s.get(VendRow, hold.vend_id)
            lane = s.get(LaneRow, hold.lane)
            if vend is None or lane is None:
                raise LookupError(f"no vend {hold.vend_id}")
            if vend.state != "in_flight":
                raise RuntimeError(f"vend {hold.vend_id} already settled as {vend.state}")
            vend.state = result.outcome.value
            vend.flags = ",".join(f.value for f in result.flags)
            vend.finished_at = at
            kind = {
                Outcome.DISPENSED: EntryKind.CHARGE,
                Outcome.NOT_DISPENSED: EntryKind.RELEASE,
            }.get(result.outcome)
            if kind is not None:
                self._close_hold(
                    s, hold.hold_id, hold.volunteer_id, hold.price, kind, hold.item_id, hold.lane
                )
            if result.outcome is Outcome.DISPENSED:
                lane.stock = max(lane.stock - 1, 0)
            elif set(result.flags) & DISABLING_FLAGS:
                lane.enabled = False
                lane.fault = vend.flags
                self._audit(
                    s,
                    "machine",
                    "lane_disabled",
                    f"lane:{lane.number}",
                    {"enabled": True},
                    {"enabled": False, "fault": vend.flags},
                )
            s.flush()
            return self._balance(s, hold.volunteer_id)

    def in_flight(self) -> list[HoldPlaced]:
        """Dispenses a previous run started and never settled (it stopped mid-vend)."""
        with self.reading() as s:
            rows = s.execute(
                select(VendRow, LedgerRow)
                .join(LedgerRow, LedgerRow.id == VendRow.hold_id)
                .where(VendRow.state == "in_flight")
                .order_by(VendRow.started_at)
            ).all()
            return [
                HoldPlaced(h.id, v.id, h.volunteer_id, h.item_id or 0, v.lane, h.amount, v.sn)
                for v, h in rows
            ]

    def in_doubt(self) -> list[InDoubt]:
        with self.reading() as s:
            rows = s.execute(
                _VENDS_WITH_NAMES.where(VendRow.state == "unknown").order_by(VendRow.started_at)
            ).all()
            return [
                InDoubt(v.id, v.started_at, v.lane, h.volunteer_id, name or "", item or "", h.amount, v.flags)
                for v, h, name, item in rows
            ]

    def settle_in_doubt(self, actor: str, vend_id: str, dispensed: bool) -> Balance:
        """A technician's word on a dispense in doubt: charge it, or release the hold."""
        at, _ = self._now()
        with self.unit() as s:
            vend = s.get(VendRow, vend_id)
            if vend is None or vend.state != "unknown":
                raise LookupError(f"no dispense in doubt with id {vend_id}")
            hold = s.get(LedgerRow, vend.hold_id)
            assert hold is not None
            kind = EntryKind.CHARGE if dispensed else EntryKind.RELEASE
            self._close_hold(
                s,
                hold.id,
                hold.volunteer_id,
                hold.amount,
                kind,
                hold.item_id,
                hold.lane,
                f"settled by {actor}",
            )
            before = {"state": vend.state}
            vend.state = "dispensed" if dispensed else "not_dispensed"
            vend.finished_at = at
            if dispensed:
                lane = s.get(LaneRow, vend.lane)
                if lane is not None:
                    lane.stock = max(lane.stock - 1, 0)
            self._audit(s, actor, "vend_settled", f"vend:{vend_id}", before, {"state": vend.state})
            s.flush()
            return self._balance(s, hold.volunteer_id)

    def refund(self, actor: str, vend_id: str) -> Balance:
        """A technician gives back a dispensed item's 益币 (a reversal of its charge, once).

        The item stays gone (stock is not restored); the reversal goes up to the hub like
        a redemption does, and the audit log names who gave it back.
        """
        with self.unit() as s:
            vend = s.get(VendRow, vend_id)
            if vend is None or vend.state != "dispensed":
                raise LookupError(f"no dispensed item with vend id {vend_id}")
            charge = s.scalars(
                select(LedgerRow).where(LedgerRow.ref == vend.hold_id).where(LedgerRow.kind == "charge")
            ).one()
            self._append(
                s,
                EntryKind.REVERSAL,
                charge.volunteer_id,
                charge.amount,
                ref=charge.id,
                item_id=charge.item_id,
                lane=charge.lane,
                note=f"refunded by {actor}",
            )
            vend.state = "refunded"
            self._audit(
                s, actor, "vend_refunded", f"vend:{vend_id}", {"state": "dispensed"}, {"state": "refunded"}
            )
            s.flush()
            return self._balance(s, charge.volunteer_id)

    def _close_hold(
        self,
        s: Session,
        hold_id: str,
        volunteer_id: str,
        amount: int,
        kind: EntryKind,
        item_id: int | None,
        lane: int | None,
        note: str | None = None,
    ) -> None:
        """The charge or release that settles a hold (a charge goes up to the hub)."""
        self._append(s, kind, volunteer_id, amount, ref=hold_id, item_id=item_id, lane=lane, note=note)

    def _append(
        self,
        s: Session,
        kind: EntryKind,
        volunteer_id: str,
        amount: int,
        *,
        entry_id: str | None = None,
        ref: str | None = None,
        item_id: int | None = None,
        lane: int | None = None,
        visit_id: str | None = None,
        note: str | None = None,
    ) -> str:
        """Append one ledger entry; one that goes up to the hub queues its event with it."""
        at, day = self._now()
        entry_id = entry_id or str(uuid.uuid4())
        s.add(
            LedgerRow(
                id=entry_id,
                volunteer_id=volunteer_id,
                kind=kind.value,
                amount=amount,
                ref=ref,
                item_id=item_id,
                lane=lane,
                visit_id=visit_id,
                note=note,
                at=at,
                day=day,
            )
        )
        if kind in _PUSHED:
            self._queue_event(s, _PUSHED[kind], entry_id, volunteer_id, amount, at)
        return entry_id

    def recent_redemptions(self, limit: int = 50) -> list[Redemption]:
        with self.reading() as s:
            rows = s.execute(
                _VENDS_WITH_NAMES.order_by(VendRow.started_at.desc(), VendRow.id).limit(limit)
            ).all()
            return [
                Redemption(
                    at=v.started_at,
                    volunteer_id=h.volunteer_id,
                    volunteer_name=name or "",
                    item_name=item_name or "",
                    lane=v.lane,
                    amount=h.amount,
                    state=v.state,
                    vend_id=v.id,
                )
                for v, h, name, item_name in rows
            ]

    # --- technician changes, each with an audit row -------------------------------------

    def _audit(
        self,
        s: Session,
        actor: str,
        action: str,
        target: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        """An audit row, and its event for the hub, in the caller's transaction."""
        at, _ = self._now()
        s.add(
            AuditRow(
                at=at,
                actor=actor,
                action=action,
                target=target,
                before=None if before is None else json.dumps(before, ensure_ascii=False),
                after=None if after is None else json.dumps(after, ensure_ascii=False),
            )
        )
        record = {"actor": actor, "action": action, "target": target, "before": before, "after": after}
        s.add(
            OutboxRow(
                event_id=str(uuid.uuid4()),
                entry_id=str(uuid.uuid4()),
                kind="audit",
                volunteer_id="",
                amount=0,
                at=at,
                body=json.dumps(record, ensure_ascii=False),
            )
        )

    @staticmethod
    def _apply(row: Any, changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        before = {k: getattr(row, k) for k in changes if getattr(row, k) != changes[k]}
        after = {k: changes[k] for k in before}
        for k, v in after.items():
            setattr(row, k, v)
        return before, after

    def update_lane(self, actor: str, number: int, **changes: Any) -> Lane:
        allowed = {"item_id", "capacity", "stock", "enabled"}
        if set(changes) - allowed:
            raise ValueError(f"unknown lane fields: {sorted(set(changes) - allowed)}")
        with self.unit() as s:
            row = s.get(LaneRow, number)
            if row is None:
                raise LookupError(f"no lane {number}")
            capacity = changes.get("capacity", row.capacity)
            stock = changes.get("stock", row.stock)
            if capacity < 0 or not 0 <= stock <= capacity:
                raise ValueError("stock must be between 0 and the lane's capacity")
            if changes.get("enabled") is True:
                changes["fault"] = None
            before, after = self._apply(row, changes)
            if after:
                self._audit(s, actor, "lane_changed", f"lane:{number}", before, after)
            return _lane(row)

    def refill(self, actor: str, number: int | None = None) -> list[Lane]:
        """Fill one lane (or every lane) to capacity."""
        with self.unit() as s:
            query = select(LaneRow).order_by(LaneRow.number)
            if number is not None:
                query = query.where(LaneRow.number == number)
            rows = list(s.scalars(query))
            for row in rows:
                if row.stock != row.capacity:
                    before, after = self._apply(row, {"stock": row.capacity})
                    self._audit(s, actor, "lane_refilled", f"lane:{row.number}", before, after)
            return [_lane(r) for r in rows]

    def update_item(self, actor: str, item_id: int, **changes: Any) -> Item:
        allowed = {"name_zh", "name_en", "price", "image"}
        if set(changes) - allowed:
            raise ValueError(f"unknown item fields: {sorted(set(changes) - allowed)}")
        price = changes.get("price")
        if price is not None and (not isinstance(price, int) or price <= 0):
            raise ValueError("a price is a positive whole number of 益币")
        with self.unit() as s:
            row = s.get(ItemRow, item_id)
            if row is None:
                raise LookupError(f"no item {item_id}")
            before, after = self._apply(row, changes)
            if after:
                self._audit(s, actor, "item_changed", f"item:{item_id}", before, after)
            return _item(row)

    def add_item(self, actor: str, name_zh: str, name_en: str, price: int, image: str = "") -> Item:
        if price <= 0:
            raise ValueError("a price is a positive whole number of 益币")
        with self.unit() as s:
            row = ItemRow(name_zh=name_zh, name_en=name_en, price=price, image=image)
            s.add(row)
            s.flush()
            self._audit(
                s,
                actor,
                "item_added",
                f"item:{row.id}",
                None,
                {"name_zh": name_zh, "name_en": name_en, "price": price, "image": image},
            )
            return _item(row)

    def add_lane(self, actor: str, number: int, item_id: int | None, capacity: int, stock: int) -> Lane:
        with self.unit() as s:
            row = LaneRow(number=number, item_id=item_id, capacity=capacity, stock=stock, enabled=True)
            s.add(row)
            self._audit(
                s,
                actor,
                "lane_added",
                f"lane:{number}",
                None,
                {"item_id": item_id, "capacity": capacity, "stock": stock},
            )
            return _lane(row)

    def record_test_vend(self, actor: str, number: int, result: DispenseResult) -> None:
        """A technician's test vend: stock follows what dropped, and the audit log says so."""
        with self.unit() as s:
            row = s.get(LaneRow, number)
            before = None if row is None else {"stock": row.stock}
            if row is not None and result.outcome is Outcome.DISPENSED:
                row.stock = max(row.stock - 1, 0)
            after = {
                "outcome": result.outcome.value,
                "flags": [f.value for f in result.flags],
                "stock": None if row is None else row.stock,
            }
            self._audit(s, actor, "test_vend", f"lane:{number}", before, after)

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        with self.reading() as s:
            rows = s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
            return [AuditEntry(r.at, r.actor, r.action, r.target, r.before, r.after) for r in rows]

    # --- trust list and replay memory ----------------------------------------------------

    def trust(self) -> tuple[dict[str, Any], list[str]]:
        with self.reading() as s:
            keys = [json.loads(r.jwk) for r in s.scalars(select(TrustKeyRow))]
            revoked = list(s.scalars(select(RevokedCardRow.jti)))
        return {"keys": keys}, revoked

    def replace_trust(self, jwks: Mapping[str, Any], revoked: Iterable[str]) -> None:
        with self.unit() as s:
            s.query(TrustKeyRow).delete()
            s.query(RevokedCardRow).delete()
            for jwk in jwks.get("keys", []):
                s.add(TrustKeyRow(kid=jwk["kid"], jwk=json.dumps(jwk)))
            for jti in set(revoked):
                s.add(RevokedCardRow(jti=jti))

    def accept_once(self, jti: str, exp: int, now: int) -> bool:
        """The replay memory of ``docs/volunteer-code.md``, kept across restarts.

        A newly seen code is remembered at once in memory and written durably by
        :meth:`flush_seen`, which the kiosk runs on its worker right after the scan's
        answer is on its way to the screen and before anything else: a scan does not
        wait for a disk flush, and no 益币 move before the code is on disk.
        """
        if jti in self._pending_seen:
            return False
        with self.reading() as s:
            if s.get(SeenCodeRow, jti) is not None:
                return False
        self._pending_seen[jti] = exp
        return True

    def flush_seen(self) -> None:
        """Write the codes seen since the last flush (one durable commit)."""
        if not self._pending_seen:
            return
        now, _ = self._now()
        with self.unit() as s:
            for jti, exp in self._pending_seen.items():
                s.add(SeenCodeRow(jti=jti, exp=exp))
            if now - self._purged_at > 3600:  # forget codes long expired, once an hour
                s.query(SeenCodeRow).filter(SeenCodeRow.exp < now - 3600).delete()
                self._purged_at = now
        self._pending_seen.clear()

    # --- sync with the hub -------------------------------------------------------------

    @staticmethod
    def _queue_event(s: Session, kind: str, entry_id: str, volunteer_id: str, amount: int, at: int) -> None:
        """A ledger entry's event for the hub (redemption, reversal), in the entry's own transaction."""
        s.add(
            OutboxRow(
                event_id=str(uuid.uuid4()),
                entry_id=entry_id,
                kind=kind,
                volunteer_id=volunteer_id,
                amount=amount,
                at=at,
            )
        )

    def pending_events(self, limit: int = 500) -> list[dict[str, Any]]:
        """The oldest unacknowledged outbox events, as ``protocol.sync`` events.

        A redemption carries what a report needs (protocol 2): quantity 1 and its unit
        price (what was charged for the one item), and, from its ledger entry and the
        items table, the item's id and name and the lane, when the entry names them.
        """
        with self.reading() as s:
            rows = s.execute(
                select(OutboxRow, LedgerRow.item_id, ItemRow.name_zh, LedgerRow.lane)
                .outerjoin(LedgerRow, LedgerRow.id == OutboxRow.entry_id)
                .outerjoin(ItemRow, ItemRow.id == LedgerRow.item_id)
                .where(OutboxRow.acked_seq.is_(None))
                .order_by(OutboxRow.at, literal_column("outbox.rowid"))  # the order they were written in
                .limit(limit)
            )
            events: list[dict[str, Any]] = []
            for r, item_id, item_name, lane in rows:
                if r.body is not None:
                    events.append({"id": r.event_id, "kind": r.kind, "at": r.at, "body": json.loads(r.body)})
                    continue
                event = {
                    "id": r.event_id,
                    "kind": r.kind,
                    "volunteer_id": r.volunteer_id,
                    "amount": r.amount,
                    "at": r.at,
                }
                if r.kind == "redemption":
                    event.update(unit_price=r.amount, quantity=1)
                    # the contract holds 100 characters of a name; the store does not stop longer ones
                    name = item_name[:100] if item_name is not None else None
                    known = {"item_id": item_id, "item_name": name, "lane": lane}
                    event.update((k, v) for k, v in known.items() if v is not None)
                events.append(event)
            return events

    def ack_events(self, acks: Mapping[str, int]) -> None:
        with self.unit() as s:
            for event_id, seq in acks.items():
                row = s.get(OutboxRow, event_id)
                if row is not None and row.acked_seq is None:
                    row.acked_seq = seq

    def apply_pull(self, page: Mapping[str, Any]) -> int:
        """Store one page of the hub's changes and its cursor, in one transaction.

        The page's volunteers are rows ``[id, name, balance]`` (the hub's ``columns``).
        """
        if page.get("columns", ["id", "name", "balance"]) != ["id", "name", "balance"]:
            raise ValueError(f"unknown volunteer columns {page.get('columns')!r}")
        people = [(str(vid), str(name), int(balance)) for vid, name, balance in page.get("volunteers", [])]
        with self.unit() as s:
            _upsert_volunteers(s, people, True)
            keys = page.get("jwks", {}).get("keys", [])
            if keys:
                s.merge(SettingRow(key=self.TRUST_SYNCED_AT, value=str(int(self.clock()))))
                stored = {r.kid: r.jwk for r in s.scalars(select(TrustKeyRow))}
                fresh = {jwk["kid"]: json.dumps(jwk) for jwk in keys}
                if stored != fresh:
                    s.query(TrustKeyRow).delete()
                    s.add_all(TrustKeyRow(kid=kid, jwk=text) for kid, text in fresh.items())
            if page.get("technicians"):
                self._replace_technicians(s, page["technicians"])
            if "revoked" in page:
                s.query(RevokedCardRow).delete()
                for jti in set(page["revoked"]):
                    s.add(RevokedCardRow(jti=jti))
            cursor = int(page["cursor"])
            row = s.get(SettingRow, self.SYNC_CURSOR)
            if row is None:
                s.add(SettingRow(key=self.SYNC_CURSOR, value=str(cursor)))
            elif cursor > int(row.value):
                row.value = str(cursor)
            return len(people)

    def sync_cursor(self) -> int:
        with self.reading() as s:
            return self._cursor(s)

    def status_report(self) -> dict[str, Any]:
        """What the hub's operators see of this kiosk: stock per lane, faults, sync state."""
        names = {i.id: i.name_zh for i in self.items()}
        faults = self.lane_faults()
        lanes = [
            {
                "lane": lane.number,
                "item": names.get(lane.item_id) if lane.item_id is not None else None,
                "stock": lane.stock,
                "capacity": lane.capacity,
                "enabled": lane.enabled,
                "fault": faults.get(lane.number),
            }
            for lane in self.lanes()
        ]
        return {
            "lanes": lanes,
            "in_doubt": len(self.in_doubt()),
            "queued_events": self.queued_events(),
            "sync_cursor": self.sync_cursor(),
            "last_good_sync": int(self.setting("last_good_sync") or 0) or None,
        }

    def queued_events(self) -> int:
        with self.reading() as s:
            return int(
                s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.acked_seq.is_(None)))
                or 0
            )

    def set_setting(self, key: str, value: str) -> None:
        with self.unit() as s:
            s.merge(SettingRow(key=key, value=value))

    def setting(self, key: str) -> str | None:
        with self.reading() as s:
            row = s.get(SettingRow, key)
            return None if row is None else row.value

    # --- technicians ---------------------------------------------------------------------

    @staticmethod
    def _replace_technicians(s: Session, people: list[Mapping[str, Any]]) -> None:
        """The hub's technicians replace ours; a PIN lockout in progress is kept."""
        ours = {t.id: t for t in s.scalars(select(TechnicianRow))}
        theirs = {str(t["id"]): t for t in people}
        for tech_id, row in ours.items():
            if tech_id not in theirs:
                s.delete(row)
        for tech_id, t in theirs.items():
            known = ours.get(tech_id)
            if known is None:
                s.add(
                    TechnicianRow(
                        id=tech_id, name=t["name"], pin_hash=t["pin_hash"], failures=0, locked_until=0
                    )
                )
            else:
                known.name, known.pin_hash = str(t["name"]), str(t["pin_hash"])

    def add_technician(self, tech_id: str, name: str, pin_hash: str) -> None:
        with self.unit() as s:
            s.merge(TechnicianRow(id=tech_id, name=name, pin_hash=pin_hash, failures=0, locked_until=0))

    def technician_pin(self, tech_id: str) -> tuple[str, PinState] | None:
        with self.reading() as s:
            row = s.get(TechnicianRow, tech_id)
            if row is None:
                return None
            return row.pin_hash, PinState(row.failures, float(row.locked_until))

    def save_pin_state(self, tech_id: str, state: PinState, event: str) -> None:
        with self.unit() as s:
            row = s.get(TechnicianRow, tech_id)
            if row is None:
                raise LookupError(tech_id)
            row.failures = state.failures
            row.locked_until = int(state.locked_until)
            self._audit(s, tech_id, event, f"tech:{tech_id}", None, None)
