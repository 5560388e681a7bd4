"""Records the technician screens list (redemptions, audit entries), and the hub's refusals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Redemption:
    at: int
    volunteer_id: str
    volunteer_name: str
    item_name: str
    lane: int
    amount: int
    state: str  # dispensed, not_dispensed, unknown, in_flight, refunded
    vend_id: str = ""
    item_name_en: str = ""

    def item(self, lang: str) -> str:
        return self.item_name_en if lang == "en" and self.item_name_en else self.item_name


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: int
    actor: str
    action: str
    target: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class RefusedEvent:
    """An event the hub refused (its acknowledgement gave the reason, a ``protocol.sync.Refused``).

    The hub keeps it in its quarantine for an operator; the kiosk stops sending it and
    writes it to its audit log for the technician (actor ``hub``, action
    ``event_refused``).
    """

    event_id: str
    reason: str
    kind: str
    volunteer_id: str | None = None
    amount: int | None = None

    def audit_after(self) -> dict[str, object]:
        """What the audit row's "after" says: the reason, and what the event was."""
        after: dict[str, object] = {"refused": self.reason, "kind": self.kind}
        if self.volunteer_id:
            after["volunteer_id"] = self.volunteer_id
        if self.amount:
            after["amount"] = self.amount
        return after


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    """A price set aside for one dispense, and the vend that will settle it."""

    hold_id: str
    vend_id: str
    volunteer_id: str
    item_id: int
    lane: int
    price: int
    sn: int | None = None


@dataclass(frozen=True, slots=True)
class InDoubt:
    """A dispense nobody can tell the end of: the hold stays until a technician settles it."""

    vend_id: str
    at: int
    lane: int
    volunteer_id: str
    volunteer_name: str
    item_name: str
    amount: int
    board_said: str
    item_name_en: str = ""

    def item(self, lang: str) -> str:
        return self.item_name_en if lang == "en" and self.item_name_en else self.item_name
