"""An in-memory unit of work for the service tests (cosmicpython's ``FakeUnitOfWork``).

It serves the protocols of ``kiosk.services.ports`` from plain dicts: a unit of work
works on a copy and ``commit()`` puts the copy in place, so a use case that raises
leaves nothing behind, as on SQLite. Its ``facts`` derive the bounded facts from the
whole history the simple way; ``tests/services`` runs every use case on it and on a real
SQLite file, so the two must agree.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from kiosk.core.catalog import Item, Lane
from kiosk.core.ledger import Entry, EntryKind
from kiosk.core.people import PinState
from kiosk.core.records import AuditEntry, HoldPlaced, InDoubt, Redemption
from kiosk.core.redemption import KioskSpending, VolunteerFacts
from kiosk.core.vend import OPEN_STATES, Vend, VendState


@dataclass
class Data:
    volunteers: dict[str, tuple[str, int]] = field(default_factory=dict)
    entries: dict[str, tuple[Entry, int]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    items: dict[int, Item] = field(default_factory=dict)
    lanes: dict[int, Lane] = field(default_factory=dict)
    vends: dict[str, Vend] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    seen: dict[str, int] = field(default_factory=dict)
    technicians: dict[str, tuple[str, str, PinState]] = field(default_factory=dict)
    card_pins: dict[str, tuple[str, PinState]] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)


class FakeLedger:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, entry: Entry, at: int, *, visit_id: str | None = None, note: str | None = None) -> None:
        if entry.id in self.d.entries:
            raise ValueError(f"entry {entry.id} exists")
        self.d.entries[entry.id] = (entry, at)

    def get(self, entry_id: str) -> Entry | None:
        found = self.d.entries.get(entry_id)
        return None if found is None else found[0]

    def charge_of(self, hold_id: str) -> Entry | None:
        return next(
            (e for e, _ in self.d.entries.values() if e.ref == hold_id and e.kind is EntryKind.CHARGE), None
        )

    def history(self, volunteer_id: str) -> list[Entry]:
        return [e for e, _ in self.d.entries.values() if e.volunteer_id == volunteer_id]

    def _open_holds(self) -> list[Entry]:
        return [self.d.entries[v.hold_id][0] for v in self.d.vends.values() if v.state in OPEN_STATES]

    def facts(self, volunteer_id: str, day: str, cursor: int) -> VolunteerFacts:
        mine = self.history(volunteer_id)
        acked = {o["entry_id"]: o["acked_seq"] for o in self.d.outbox}
        released = {e.ref for e in mine if e.kind is EntryKind.RELEASE}
        known = self.d.volunteers.get(volunteer_id)
        return VolunteerFacts(
            id=volunteer_id,
            name=None if known is None else known[0],
            hub_balance=0 if known is None else known[1],
            unseen=tuple(
                e for e in mine if e.kind is EntryKind.CREDIT or (e.id in acked and acked[e.id] is None)
            ),
            unreflected=tuple(e for e in mine if (acked.get(e.id) or 0) > cursor),
            open_holds=tuple(e for e in self._open_holds() if e.volunteer_id == volunteer_id),
            held_today=tuple(
                e for e in mine if e.kind is EntryKind.HOLD and e.day == day and e.id not in released
            ),
        )

    def kiosk_spending(self) -> KioskSpending:
        unseen = sum(
            o["amount"] for o in self.d.outbox if o["kind"] == "redemption" and o["acked_seq"] is None
        )
        return KioskSpending(unseen, sum(e.amount for e in self._open_holds()))

    def upsert_volunteers(self, rows: Iterable[tuple[str, str, int]], balances: bool) -> int:
        n = 0
        for vid, name, balance in rows:
            old = self.d.volunteers.get(vid)
            keep = balance if balances or old is None else old[1]
            self.d.volunteers[vid] = (name, keep)
            n += 1
        return n


class FakeCatalogue:
    def __init__(self, d: Data) -> None:
        self.d = d

    def item(self, item_id: int) -> Item | None:
        return self.d.items.get(item_id)

    def lane(self, number: int) -> Lane | None:
        return self.d.lanes.get(number)

    def items(self) -> list[Item]:
        return [self.d.items[k] for k in sorted(self.d.items)]

    def lanes(self) -> list[Lane]:
        return [self.d.lanes[k] for k in sorted(self.d.lanes)]

    def add_item(
        self, name_zh: str, name_en: str, price: int, image: str = "", hub_id: int | None = None
    ) -> Item:
        item = Item(max(self.d.items, default=0) + 1, name_zh, name_en, price, image, hub_id)
        self.d.items[item.id] = item
        return item

    def save_item(self, item: Item) -> None:
        if item.id not in self.d.items:
            raise LookupError(f"no item {item.id}")
        self.d.items[item.id] = item

    def add_lane(self, lane: Lane) -> None:
        if lane.number in self.d.lanes:
            raise ValueError(f"lane {lane.number} exists")
        self.d.lanes[lane.number] = lane

    def save_lane(self, lane: Lane) -> None:
        if lane.number not in self.d.lanes:
            raise LookupError(f"no lane {lane.number}")
        self.d.lanes[lane.number] = lane


class FakeVends:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, vend: Vend) -> None:
        self.d.vends[vend.id] = vend

    def get(self, vend_id: str) -> Vend | None:
        return self.d.vends.get(vend_id)

    def save(self, vend: Vend) -> None:
        self.d.vends[vend.id] = vend

    def in_flight(self) -> list[HoldPlaced]:
        out = []
        for v in self.d.vends.values():
            if v.state is VendState.IN_FLIGHT:
                h = self.d.entries[v.hold_id][0]
                out.append(HoldPlaced(h.id, v.id, h.volunteer_id, h.item_id or 0, v.lane, h.amount, v.sn))
        return out


class FakeOutbox:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(
        self,
        kind: str,
        at: int,
        *,
        entry_id: str | None = None,
        volunteer_id: str = "",
        amount: int = 0,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self.d.outbox.append(
            {
                "event_id": str(uuid.uuid4()),
                "entry_id": entry_id or str(uuid.uuid4()),
                "kind": kind,
                "volunteer_id": volunteer_id,
                "amount": amount,
                "at": at,
                "acked_seq": None,
                "body": None if body is None else json.loads(json.dumps(body)),
            }
        )

    def pending(self, limit: int) -> list[dict[str, Any]]:
        rows = [o for o in self.d.outbox if o["acked_seq"] is None][:limit]
        out = []
        for o in rows:
            event = {"id": o["event_id"], "kind": o["kind"], "at": o["at"]}
            if o["body"] is not None:
                event["body"] = o["body"]
            else:
                event.update(volunteer_id=o["volunteer_id"], amount=o["amount"])
            if o["kind"] == "reversal":
                charge_id = self.d.entries[o["entry_id"]][0].ref
                charge = next((c["event_id"] for c in self.d.outbox if c["entry_id"] == charge_id), None)
                if charge is not None:
                    event["reverses"] = charge
            if o["kind"] == "redemption":
                charge = self.d.entries[o["entry_id"]][0]
                item = self.d.items.get(charge.item_id or -1)
                event.update(unit_price=o["amount"], quantity=1)
                known = {"item_id": charge.item_id, "item_name": item and item.name_zh, "lane": charge.lane}
                event.update((k, v) for k, v in known.items() if v is not None)
            out.append(event)
        return out

    def ack(self, acks: Mapping[str, int]) -> None:
        for o in self.d.outbox:
            if o["event_id"] in acks and o["acked_seq"] is None:
                o["acked_seq"] = acks[o["event_id"]]

    def queued(self) -> int:
        return sum(1 for o in self.d.outbox if o["acked_seq"] is None)


class FakeTrust:
    def __init__(self, d: Data) -> None:
        self.d = d

    def keys(self) -> list[dict[str, Any]]:
        return list(self.d.keys.values())

    def revoked(self) -> list[str]:
        return sorted(self.d.revoked)

    def replace_keys(self, keys: Iterable[Mapping[str, Any]]) -> bool:
        fresh = {str(k["kid"]): dict(k) for k in keys}
        changed = fresh != self.d.keys
        self.d.keys = fresh
        return changed

    def replace_revoked(self, jtis: Iterable[str]) -> None:
        self.d.revoked = set(jtis)

    def seen(self, jti: str) -> bool:
        return jti in self.d.seen

    def remember(self, codes: Mapping[str, int]) -> None:
        self.d.seen.update(codes)

    def forget_expired(self, before: int) -> None:
        self.d.seen = {j: exp for j, exp in self.d.seen.items() if exp >= before}


class FakeTechnicians:
    def __init__(self, d: Data) -> None:
        self.d = d

    def pin(self, tech_id: str) -> tuple[str, PinState] | None:
        found = self.d.technicians.get(tech_id)
        return None if found is None else (found[1], found[2])

    def save_pin_state(self, tech_id: str, state: PinState) -> None:
        name, pin_hash, _ = self.d.technicians[tech_id]
        self.d.technicians[tech_id] = (
            name,
            pin_hash,
            PinState(state.failures, float(int(state.locked_until)), state.lockouts),
        )

    def add(self, tech_id: str, name: str, pin_hash: str) -> None:
        self.d.technicians[tech_id] = (name, pin_hash, PinState())

    def replace_all(self, people: Mapping[str, tuple[str, str]]) -> None:
        old = self.d.technicians
        self.d.technicians = {
            tid: (name, pin_hash, old[tid][2] if tid in old else PinState())
            for tid, (name, pin_hash) in people.items()
        }


class FakeCardPins:
    def __init__(self, d: Data) -> None:
        self.d = d

    def pin(self, volunteer_id: str) -> tuple[str, PinState] | None:
        return self.d.card_pins.get(volunteer_id)

    def save_pin_state(self, volunteer_id: str, state: PinState) -> None:
        if volunteer_id not in self.d.card_pins:
            raise LookupError(volunteer_id)
        pin_hash, _ = self.d.card_pins[volunteer_id]
        self.d.card_pins[volunteer_id] = (
            pin_hash,
            PinState(state.failures, float(int(state.locked_until)), state.lockouts),
        )

    def apply(self, rows: Iterable[tuple[str, str | None]]) -> None:
        for volunteer_id, pin_hash in rows:
            if pin_hash is None:
                self.d.card_pins.pop(volunteer_id, None)
            else:
                kept = self.d.card_pins.get(volunteer_id, ("", PinState()))[1]
                self.d.card_pins[volunteer_id] = (pin_hash, kept)


class FakeAudit:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(
        self,
        at: int,
        actor: str,
        action: str,
        target: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        def text(x: Mapping[str, Any] | None) -> str | None:
            return None if x is None else json.dumps(x, ensure_ascii=False)

        self.d.audit.append(AuditEntry(at, actor, action, target, text(before), text(after)))


class FakeSettings:
    def __init__(self, d: Data) -> None:
        self.d = d

    def get(self, key: str) -> str | None:
        return self.d.settings.get(key)

    def set(self, key: str, value: str) -> None:
        self.d.settings[key] = value

    def cursor(self) -> int:
        return int(self.d.settings.get("sync_cursor") or 0)


class FakeViews:
    def __init__(self, d: Data) -> None:
        self.d = d

    def _rows(self, vends: Iterable[Vend]) -> list[tuple[Vend, Entry, str, Item | None]]:
        out = []
        for v in vends:
            h = self.d.entries[v.hold_id][0]
            name = self.d.volunteers.get(h.volunteer_id, ("", 0))[0]
            item = self.d.items.get(h.item_id or -1)
            out.append((v, h, name, item))
        return out

    def recent_redemptions(self, limit: int = 50) -> list[Redemption]:
        vends = sorted(self.d.vends.values(), key=lambda v: (-v.started_at, v.id))[:limit]
        return [
            Redemption(
                v.started_at,
                h.volunteer_id,
                name,
                item.name_zh if item else "",
                v.lane,
                h.amount,
                v.state,
                v.id,
                item.name_en if item else "",
            )
            for v, h, name, item in self._rows(vends)
        ]

    def in_doubt(self) -> list[InDoubt]:
        vends = sorted(
            (v for v in self.d.vends.values() if v.state is VendState.UNKNOWN), key=lambda v: v.started_at
        )
        return [
            InDoubt(
                v.id,
                v.started_at,
                v.lane,
                h.volunteer_id,
                name,
                item.name_zh if item else "",
                h.amount,
                v.flags,
                item.name_en if item else "",
            )
            for v, h, name, item in self._rows(vends)
        ]

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        return list(reversed(self.d.audit))[:limit]


class FakeUnitOfWork:
    def __init__(self, home: FakeUnitsOfWork) -> None:
        self.home = home
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        d = self.data = copy.deepcopy(self.home.data)
        self.ledger, self.catalogue, self.vends = FakeLedger(d), FakeCatalogue(d), FakeVends(d)
        self.outbox, self.trust, self.technicians = FakeOutbox(d), FakeTrust(d), FakeTechnicians(d)
        self.audit, self.settings, self.views = FakeAudit(d), FakeSettings(d), FakeViews(d)
        self.card_pins = FakeCardPins(d)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass  # what was not committed is dropped with the copy

    def commit(self) -> None:
        self.home.data = copy.deepcopy(self.data)
        self.home.commits += 1
        self.committed = True

    def flush(self) -> None:
        pass


class FakeUnitsOfWork:
    def __init__(self) -> None:
        self.data = Data()
        self.commits = 0
        self.checkpoints = 0

    def writing(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def reading(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def checkpoint(self) -> None:
        self.checkpoints += 1
