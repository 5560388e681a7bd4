"""What the kiosk tells the hub and the technician: the outbox, pulled pages, lists, status.

``apply_pull`` stores one page of the hub's changes and its cursor in one unit of work;
the lists (recent redemptions, dispenses in doubt, the audit log) come from the store's
read side.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.records import AuditEntry, InDoubt, Redemption, RefusedEvent
from ..core.sync_problems import SyncProblem
from ..core.vend import HubItem, hub_catalogue_changes
from ..store.settings import (
    CARD_PINS_CURSOR,
    HONOUR_BOARD,
    HONOUR_STAMP,
    LAST_GOOD_SYNC,
    LAST_SYNC_PROBLEM,
    SYNC_CURSOR,
    TRUST_SYNCED_AT,
)
from .base import HUB, UseCases, _diff
from .ports import UnitOfWork

VOLUNTEER_COLUMNS = ["id", "name", "balance"]


class Records(UseCases):
    SYNC_CURSOR = SYNC_CURSOR
    TRUST_SYNCED_AT = TRUST_SYNCED_AT

    # --- the read side -------------------------------------------------------------------

    def recent_redemptions(self, limit: int = 50) -> list[Redemption]:
        with self.units.reading() as uow:
            return uow.views.recent_redemptions(limit)

    def in_doubt(self) -> list[InDoubt]:
        with self.units.reading() as uow:
            return uow.views.in_doubt()

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        with self.units.reading() as uow:
            return uow.views.audit_log(limit)

    def checkpoint(self) -> None:
        """Store housekeeping, run where nobody waits for it (after a scan, after a sync)."""
        self.units.checkpoint()

    # --- sync with the hub ---------------------------------------------------------------

    def pending_events(self, limit: int = 500) -> list[dict[str, Any]]:
        with self.units.reading() as uow:
            return uow.outbox.pending(limit)

    def ack_events(self, acks: Mapping[str, int], refused: Iterable[RefusedEvent] = ()) -> None:
        """Mark events acknowledged with the hub sequence each was applied at.

        A refused event is acknowledged at sequence 0, so it is not sent again and counts
        as reflected (the hub's balance never held it), and the refusal goes to the audit
        log, where the technician sees it; the hub keeps the event in its quarantine.
        """
        refused = list(refused)
        with self.units.writing() as uow:
            uow.outbox.ack({**acks, **{r.event_id: 0 for r in refused}})
            at, _ = self._now()
            for r in refused:
                uow.audit.add(at, "hub", "event_refused", f"event:{r.event_id}", None, r.audit_after())
            uow.commit()

    def sync_finished(self, problem: SyncProblem | None) -> None:
        """A sync ended: good (``None``: its time is the last good sync), or failed, and why."""
        with self.units.writing() as uow:
            if problem is None:
                uow.settings.set(LAST_GOOD_SYNC, str(int(self.clock())))
                if uow.settings.get(LAST_SYNC_PROBLEM):
                    uow.settings.set(LAST_SYNC_PROBLEM, "")
            else:
                uow.settings.set(LAST_SYNC_PROBLEM, problem.to_json())
            uow.commit()

    def sync_problem(self) -> SyncProblem | None:
        """Why the last sync failed, or ``None`` if it did not (or none has run)."""
        with self.units.reading() as uow:
            return SyncProblem.from_json(uow.settings.get(LAST_SYNC_PROBLEM))

    def queued_events(self) -> int:
        with self.units.reading() as uow:
            return uow.outbox.queued()

    def sync_cursor(self) -> int:
        with self.units.reading() as uow:
            return uow.settings.cursor()

    def card_pins_cursor(self) -> int:
        """From which cursor on the hub must send card PINs: the last page that brought some
        (0 for a kiosk that never stored any: a new one, or one from before protocol 4)."""
        with self.units.reading() as uow:
            return int(uow.settings.get(CARD_PINS_CURSOR) or 0)

    def honour_stamp(self) -> str | None:
        """The stamp of the honour roll this kiosk holds (a pull names it)."""
        with self.units.reading() as uow:
            return uow.settings.get(HONOUR_STAMP)

    def set_honour_board(self, board: Mapping[str, Any]) -> None:
        """Keep an honour roll (as a pull page brings it; the demo makes its own)."""
        with self.units.writing() as uow:
            self._keep_board(uow, board)
            uow.commit()

    @staticmethod
    def _keep_board(uow: UnitOfWork, board: Mapping[str, Any]) -> None:
        uow.settings.set(HONOUR_BOARD, json.dumps(board, ensure_ascii=False))
        uow.settings.set(HONOUR_STAMP, str(board["stamp"]))

    def honour_board(self) -> dict[str, Any] | None:
        """The honour roll as the hub last sent it (``kiosk.core.honour`` reads it)."""
        with self.units.reading() as uow:
            text = uow.settings.get(HONOUR_BOARD)
        return None if not text else dict(json.loads(text))

    def apply_pull(self, page: Mapping[str, Any]) -> int:
        """Store one page of the hub's changes and its cursor, in one transaction.

        The page's volunteers are rows ``[id, name, balance]`` (the hub's ``columns``);
        its card PINs rows ``[volunteer_id, hash or None]``, stored with the page's cursor
        as the card PINs' (a page without them, from a hub before protocol 4, changes none).
        """
        if page.get("columns", VOLUNTEER_COLUMNS) != VOLUNTEER_COLUMNS:
            raise ValueError(f"unknown volunteer columns {page.get('columns')!r}")
        people = [(str(vid), str(name), int(balance)) for vid, name, balance in page.get("volunteers", [])]
        with self.units.writing() as uow:
            uow.ledger.upsert_volunteers(people, True)
            keys = page.get("jwks", {}).get("keys", [])
            if keys:
                uow.settings.set(TRUST_SYNCED_AT, str(int(self.clock())))
                uow.trust.replace_keys(keys)
            if page.get("technicians"):  # an empty list changes nothing
                uow.technicians.replace_all(
                    {str(t["id"]): (str(t["name"]), str(t["pin_hash"])) for t in page["technicians"]}
                )
            if "revoked" in page:
                uow.trust.replace_revoked(page["revoked"])
            if page.get("catalogue") is not None:
                self._take_catalogue(uow, page["catalogue"])
            if page.get("honour"):  # none: unchanged since the stamp this kiosk sent
                self._keep_board(uow, page["honour"])
            cursor = int(page["cursor"])
            if page.get("card_pins") is not None:
                pins = [(str(vid), None if h is None else str(h)) for vid, h in page["card_pins"]]
                uow.card_pins.apply(pins)
                uow.settings.set(CARD_PINS_CURSOR, str(cursor))
            if cursor > uow.settings.cursor() or uow.settings.get(SYNC_CURSOR) is None:
                uow.settings.set(SYNC_CURSOR, str(cursor))
            uow.commit()
        return len(people)

    def _take_catalogue(self, uow: UnitOfWork, entries: Iterable[Mapping[str, Any]]) -> None:
        """The fleet's catalogue from a pull page: names and prices as the hub has them, each
        change in the audit log (actor ``hub``), in the page's unit of work."""
        hub_items = [
            HubItem(
                int(e["id"]),
                str(e["name_zh"]),
                str(e.get("name_en") or ""),
                int(e["price"]),
                None if e.get("image") is None else str(e["image"]),
            )
            for e in entries
        ]
        items = uow.catalogue.items()
        saved, added = hub_catalogue_changes(items, hub_items)
        old = {i.id: i for i in items}
        for item in saved:
            uow.catalogue.save_item(item)
            before, after = _diff(old[item.id], item, ("name_zh", "name_en", "price", "image", "hub_id"))
            self._audit(uow, HUB, "item_changed", f"item:{item.id}", before, after)
        for new in added:
            item = uow.catalogue.add_item(new.name_zh, new.name_en, new.price, new.image, hub_id=new.hub_id)
            after = {"name_zh": new.name_zh, "name_en": new.name_en, "price": new.price, "hub_id": new.hub_id}
            self._audit(
                uow,
                HUB,
                "item_added",
                f"item:{item.id}",
                None,
                after | {"image": new.image} if new.image else after,
            )

    def status_report(self, trust_max_age_s: int | None = None) -> dict[str, Any]:
        """What the hub's operators see of this kiosk: stock per lane, faults, sync state, and
        how old its trust list is beside how old it may get (``trust_max_age_s``)."""
        with self.units.reading() as uow:
            names = {i.id: i.name_zh for i in uow.catalogue.items()}
            lanes = [
                {
                    "lane": lane.number,
                    "item": names.get(lane.item_id) if lane.item_id is not None else None,
                    "stock": lane.stock,
                    "capacity": lane.capacity,
                    "enabled": lane.enabled,
                    "fault": lane.fault,
                }
                for lane in uow.catalogue.lanes()
            ]
            return {
                "lanes": lanes,
                "in_doubt": len(uow.views.in_doubt()),
                "queued_events": uow.outbox.queued(),
                "sync_cursor": uow.settings.cursor(),
                "last_good_sync": int(uow.settings.get(LAST_GOOD_SYNC) or 0) or None,
                "trust_synced_at": int(uow.settings.get(TRUST_SYNCED_AT) or 0) or None,
                "trust_max_age_s": trust_max_age_s,
            }
