"""Technicians' use cases (lanes, items, test vends, PINs), card PINs and the trust list's keeping.

Each change is one unit of work: the core checks it (``kiosk.core.vend``), the store
saves it, and an audit row with before and after goes with it (and up to the hub).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from drivers.machine import DispenseResult

from ..core.catalog import Item, Lane, Offer, build_offers
from ..core.people import PinState
from ..core.vend import after_test_vend, change_lane, check_item_changes, check_price
from .base import UseCases, _diff


class Operations(UseCases):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._purged_at = 0
        self._pending_seen: dict[str, int] = {}

    # --- the catalogue -------------------------------------------------------------------

    def items(self) -> list[Item]:
        with self.units.reading() as uow:
            return uow.catalogue.items()

    def lanes(self) -> list[Lane]:
        with self.units.reading() as uow:
            return uow.catalogue.lanes()

    def lane_faults(self) -> dict[int, str]:
        return {lane.number: lane.fault for lane in self.lanes() if lane.fault is not None}

    def offers(self) -> list[Offer]:
        with self.units.reading() as uow:
            return build_offers(uow.catalogue.items(), uow.catalogue.lanes())

    def update_lane(self, actor: str, number: int, **changes: Any) -> Lane:
        with self.units.writing() as uow:
            lane = uow.catalogue.lane(number)
            if lane is None:
                raise LookupError(f"no lane {number}")
            changed = change_lane(lane, changes)
            before, after = _diff(lane, changed, ("item_id", "capacity", "stock", "enabled", "fault"))
            if after:
                uow.catalogue.save_lane(changed)
                self._audit(uow, actor, "lane_changed", f"lane:{number}", before, after)
            uow.commit()
            return changed

    def note_action(self, actor: str, action: str, target: str) -> None:
        """A technician's action that changes nothing stored (closing the kiosk's program), audited."""
        with self.units.writing() as uow:
            self._audit(uow, actor, action, target, None, None)
            uow.commit()

    def refill(self, actor: str, number: int | None = None) -> list[Lane]:
        """Fill one lane (or every lane) to capacity."""
        with self.units.writing() as uow:
            lanes = [lane for lane in uow.catalogue.lanes() if number is None or lane.number == number]
            filled = []
            for lane in lanes:
                full = dataclasses.replace(lane, stock=lane.capacity)
                if full != lane:
                    uow.catalogue.save_lane(full)
                    before, after = _diff(lane, full, ("stock",))
                    self._audit(uow, actor, "lane_refilled", f"lane:{lane.number}", before, after)
                filled.append(full)
            uow.commit()
            return filled

    def update_item(self, actor: str, item_id: int, **changes: Any) -> Item:
        check_item_changes(changes)
        with self.units.writing() as uow:
            item = uow.catalogue.item(item_id)
            if item is None:
                raise LookupError(f"no item {item_id}")
            check_item_changes(changes, item)
            changed = dataclasses.replace(item, **changes)
            before, after = _diff(item, changed, changes)
            if after:
                uow.catalogue.save_item(changed)
                self._audit(uow, actor, "item_changed", f"item:{item_id}", before, after)
            uow.commit()
            return changed

    def add_item(self, actor: str, name_zh: str, name_en: str, price: int, image: str = "") -> Item:
        check_price(price)
        with self.units.writing() as uow:
            item = uow.catalogue.add_item(name_zh, name_en, price, image)
            after = {"name_zh": name_zh, "name_en": name_en, "price": price, "image": image}
            self._audit(uow, actor, "item_added", f"item:{item.id}", None, after)
            uow.commit()
            return item

    def add_lane(self, actor: str, number: int, item_id: int | None, capacity: int, stock: int) -> Lane:
        lane = Lane(number, item_id, capacity, stock, True)
        with self.units.writing() as uow:
            uow.catalogue.add_lane(lane)
            after = {"item_id": item_id, "capacity": capacity, "stock": stock}
            self._audit(uow, actor, "lane_added", f"lane:{number}", None, after)
            uow.commit()
            return lane

    def record_test_vend(self, actor: str, number: int, result: DispenseResult) -> None:
        """A technician's test vend: stock follows what dropped, and the audit log says so."""
        with self.units.writing() as uow:
            lane = uow.catalogue.lane(number)
            after_lane = None if lane is None else after_test_vend(lane, result)
            if after_lane is not None and after_lane != lane:
                uow.catalogue.save_lane(after_lane)
            after = {
                "outcome": result.outcome.value,
                "flags": [f.value for f in result.flags],
                "stock": None if after_lane is None else after_lane.stock,
            }
            before = None if lane is None else {"stock": lane.stock}
            self._audit(uow, actor, "test_vend", f"lane:{number}", before, after)
            uow.commit()

    # --- technicians ---------------------------------------------------------------------

    def add_technician(self, tech_id: str, name: str, pin_hash: str) -> None:
        with self.units.writing() as uow:
            uow.technicians.add(tech_id, name, pin_hash)
            uow.commit()

    def technician_pin(self, tech_id: str) -> tuple[str, PinState] | None:
        with self.units.reading() as uow:
            return uow.technicians.pin(tech_id)

    def save_pin_state(self, tech_id: str, state: PinState, event: str) -> None:
        with self.units.writing() as uow:
            uow.technicians.save_pin_state(tech_id, state)
            self._audit(uow, tech_id, event, f"tech:{tech_id}", None, None)
            uow.commit()

    # --- volunteers' card PINs ------------------------------------------------------------

    def card_pin(self, volunteer_id: str) -> tuple[str, PinState] | None:
        """The hash of the PIN the volunteer's printed card asks for, and its lockout; None: no PIN."""
        with self.units.reading() as uow:
            return uow.card_pins.pin(volunteer_id)

    def set_card_pin(self, volunteer_id: str, pin_hash: str) -> None:
        """A card PIN set here rather than by the hub (demo mode, tests)."""
        with self.units.writing() as uow:
            uow.card_pins.apply([(volunteer_id, pin_hash)])
            uow.commit()

    def save_card_pin_state(
        self, volunteer_id: str, state: PinState, locked_for_s: int | None = None
    ) -> None:
        """A card PIN's lockout state after a try; ``locked_for_s`` when this try locked it,
        which the audit log records (who and for how long, never the PIN)."""
        with self.units.writing() as uow:
            uow.card_pins.save_pin_state(volunteer_id, state)
            if locked_for_s is not None:
                after = {"lock_minutes": max(1, locked_for_s // 60)}
                self._audit(uow, "machine", "card_pin_locked", f"volunteer:{volunteer_id}", None, after)
            uow.commit()

    # --- settings ------------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        with self.units.reading() as uow:
            return uow.settings.get(key)

    def set_setting(self, key: str, value: str) -> None:
        with self.units.writing() as uow:
            uow.settings.set(key, value)
            uow.commit()

    # --- trust list and replay memory ----------------------------------------------------

    def trust(self) -> tuple[dict[str, Any], list[str]]:
        with self.units.reading() as uow:
            return {"keys": uow.trust.keys()}, uow.trust.revoked()

    def replace_trust(self, jwks: Mapping[str, Any], revoked: Iterable[str]) -> None:
        with self.units.writing() as uow:
            uow.trust.replace_keys(jwks.get("keys", []))
            uow.trust.replace_revoked(revoked)
            uow.commit()

    def accept_once(self, jti: str, exp: int, now: int) -> bool:
        """The replay memory of ``docs/volunteer-code.md``, kept across restarts.

        A newly seen code is remembered at once in memory and written durably by
        :meth:`flush_seen`, which the kiosk runs on its worker right after the scan's
        answer is on its way to the screen and before anything else: a scan does not
        wait for a disk flush, and no 益币 move before the code is on disk.
        """
        if jti in self._pending_seen:
            return False
        with self.units.reading() as uow:
            if uow.trust.seen(jti):
                return False
        self._pending_seen[jti] = exp
        return True

    def flush_seen(self) -> None:
        """Write the codes seen since the last flush (one durable commit)."""
        if not self._pending_seen:
            return
        now, _ = self._now()
        with self.units.writing() as uow:
            uow.trust.remember(self._pending_seen)
            if now - self._purged_at > 3600:  # forget codes long expired, once an hour
                uow.trust.forget_expired(now - 3600)
                self._purged_at = now
            uow.commit()
        self._pending_seen.clear()
