"""Typed SQLAlchemy mappings of the kiosk's tables.

The ledger and the audit log are append-only (migrations add triggers that refuse
UPDATE and DELETE), and a hold can be settled once only (a partial unique index on the
settling entries' ``ref``). Times are Unix seconds; ``day`` is the kiosk's local date,
which the per-item daily cap counts by.
"""

from __future__ import annotations

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..core.vend import OPEN_STATES, VendState

OPEN_VENDS = "state IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATES))
"""The condition of an open vend, as literal SQL (see ``ix_vends_open``)."""


class Base(DeclarativeBase):
    pass


class VolunteerRow(Base):
    __tablename__ = "volunteers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    hub_balance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The hub's balance as of this kiosk's sync cursor."""


class OutboxRow(Base):
    """A ledger event waiting for the hub, then the hub sequence it was applied at."""

    __tablename__ = "outbox"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # redemption, reversal, audit
    volunteer_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    at: Mapped[int] = mapped_column(Integer)
    acked_seq: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    """An ``audit`` event's record (JSON); ledger events have none."""

    __table_args__ = (
        # one volunteer's events the hub has not seen or reflected, whatever their history
        Index("ix_outbox_volunteer_acked", "volunteer_id", "acked_seq"),
    )


class ItemRow(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    price: Mapped[int] = mapped_column(Integer)
    image: Mapped[str] = mapped_column(String(200), default="")
    hub_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True, index=True)
    """The hub catalogue's item this one is (its names and price come from there), if any."""


class LaneRow(Base):
    __tablename__ = "lanes"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True)
    capacity: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(default=True)
    fault: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LedgerRow(Base):
    __tablename__ = "ledger"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """Found by the partial unique indexes below: a query names their ``kind`` condition."""
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lane: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visit_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[int] = mapped_column(Integer)
    day: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        # one volunteer's holds of one day (the daily caps), or credits, by index
        Index("ix_ledger_volunteer_kind_day", "volunteer_id", "kind", "day"),
        Index(
            "ux_ledger_settles_once",
            "ref",
            unique=True,
            sqlite_where=text("kind IN ('charge', 'release')"),
            postgresql_where=text("kind IN ('charge', 'release')"),
        ),
        Index(
            "ux_ledger_reversed_once",
            "ref",
            unique=True,
            sqlite_where=text("kind = 'reversal'"),
            postgresql_where=text("kind = 'reversal'"),
        ),
    )


class VendRow(Base):
    """One dispense: which hold it belongs to and what the machine said."""

    __tablename__ = "vends"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hold_id: Mapped[str] = mapped_column(String(36))
    lane: Mapped[int] = mapped_column(Integer)
    state: Mapped[VendState] = mapped_column(
        Enum(VendState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
    )
    flags: Mapped[str] = mapped_column(String(200), default="")
    sn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        # the open vends (in flight, in doubt) are a handful among years of vends; SQLite
        # uses a partial index only for a query that names the same literal states
        Index("ix_vends_open", "hold_id", sqlite_where=text(OPEN_VENDS), postgresql_where=text(OPEN_VENDS)),
    )


class AuditRow(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)


class TrustKeyRow(Base):
    __tablename__ = "trust_keys"
    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    jwk: Mapped[str] = mapped_column(Text)


class RevokedCardRow(Base):
    __tablename__ = "revoked_cards"
    jti: Mapped[str] = mapped_column(String(100), primary_key=True)


class SeenCodeRow(Base):
    __tablename__ = "seen_codes"
    jti: Mapped[str] = mapped_column(String(100), primary_key=True)
    exp: Mapped[int] = mapped_column(Integer, index=True)


class TechnicianRow(Base):
    __tablename__ = "technicians"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    pin_hash: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """PIN lockouts since the last right PIN (each lasts longer)."""


class CardPinRow(Base):
    """A volunteer's printed-card PIN, as the hub's slow hash, with its lockout state.

    The lockout is a technician's (``core.people.PinState``), kept per volunteer: wrong
    PINs count here, on this kiosk. A row is replaced when the hub changes the PIN (the
    lockout in progress is kept) and deleted when the hub clears it.
    """

    __tablename__ = "card_pins"
    volunteer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lockouts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SettingRow(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
