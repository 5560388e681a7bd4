"""The hub's tables (SQLAlchemy 2 typed mappings; SQLite and PostgreSQL alike).

``ledger.seq`` is the hub sequence: the order in which entries were applied, which the
kiosks' sync cursors count by. ``record_id`` makes an hours import idempotent and
``event_id`` makes a kiosk's event apply once; both are unique where present, and
``digest`` tells a repeat of an event from another event under the same id. A
redemption's entry keeps what the kiosk said it dispensed (item, unit price, quantity,
lane) and ``kiosk_id`` the kiosk whose token pushed it, for reports; a reversal's
``reverses`` names the charge it gives back (unique: a charge is given back once). What a
kiosk pushed and the hub refused waits in ``quarantine`` for an operator. A client's token
is kept as a hash; a client may be revoked, and a rotated token's predecessor stays valid
until ``previous_token_until``. ``token_generation`` counts those changes, so every hub
process can tell cheaply that the tokens it remembers may be stale. A signing key's
private half is stored sealed with the key-encryption key (``hub/kek.py``); one key is
active, the others retired, each kept in the trust list until ``keep_until``. Each card
the hub signs is recorded in ``issued_cards``. A volunteer's printed card may have a PIN
(``card_pins``, a slow hash), stamped with the ledger's last sequence when it was set or
cleared so it travels down in the pull pages around it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SEQ = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Volunteer(Base):
    __tablename__ = "volunteers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """The community (or street) the volunteer belongs to, for its honour roll; none: no roll."""
    ranked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    """On the honour roll (a volunteer may opt out: ``kiosk-hub volunteer rank V --off``)."""

    __table_args__ = (
        # the alerts' loop asks every minute for the few flagged among millions
        Index(
            "ix_volunteers_flagged",
            "id",
            sqlite_where=text("flagged"),
            postgresql_where=text("flagged"),
        ),
    )


class LedgerEntry(Base):
    __tablename__ = "ledger"
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    volunteer_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # credit, redemption, reversal, settlement
    amount: Mapped[int] = mapped_column(Integer)  # signed: credits positive, redemptions negative
    record_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(36), unique=True, nullable=True)
    kiosk_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[int] = mapped_column(BigInteger)
    # what a kiosk's redemption says it dispensed (protocol 2; none on older events and credits)
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit_price: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lane: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a kiosk's event: the SHA-256 of its canonical JSON (``hub.ingest.digest``; none on
    # entries from before it was kept); a reversal: the event id of the charge it gives back
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reverses: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        # the console's reports: redemptions in a date range
        Index("ix_ledger_kind_at", "kind", "at"),
        # partial: the redemptions (nearly every entry) add nothing to it
        Index(
            "ux_ledger_reverses",
            "reverses",
            unique=True,
            sqlite_where=text("reverses IS NOT NULL"),
            postgresql_where=text("reverses IS NOT NULL"),
        ),
    )


class Kiosk(Base):
    __tablename__ = "kiosks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="kiosk", server_default="kiosk")
    # where the kiosk stands (a community, street or district); None: not placed yet
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """``kiosk`` (syncs) or ``app`` (the volunteer app's server: asks for codes and balances)."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """When its token was revoked (``kiosk-hub kiosk revoke``): no token of it works."""
    previous_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The token before the last ``kiosk-hub kiosk token``, valid until ``previous_token_until``."""
    previous_token_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class TokenGeneration(Base):
    """One row: raised by every revocation and rotation (remembered tokens are checked against it)."""

    __tablename__ = "token_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


class HubAudit(Base):
    """What was done to clients' credentials at the hub, and when (``kiosk-hub`` is who)."""

    __tablename__ = "hub_audit"
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)


class SigningKey(Base):
    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    private_key: Mapped[str] = mapped_column(Text)
    """Sealed with the key-encryption key, the kid as associated data (``hub/kek.py``)."""
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    generation: Mapped[int] = mapped_column(Integer, unique=True)
    """Rotation order: the newest key is the active one, the only one that signs."""
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    """Signs no more (the next key was made); still in the trust list until ``keep_until``."""
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    keep_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """When the last code it can have signed has expired: then it leaves the JWKS."""

    __table_args__ = (
        # exactly one key signs: two rotations at once cannot both leave theirs active
        Index(
            "ux_signing_keys_active",
            "retired",
            unique=True,
            sqlite_where=text("NOT retired"),
            postgresql_where=text("NOT retired"),
        ),
    )


class RevokedCard(Base):
    __tablename__ = "revoked_cards"
    jti: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger)


class IssuedCard(Base):
    """A card (or a technician's code) the hub signed: its id is the code's ``jti``.

    ``revoke-card`` refuses an id not here, unless told it is a card from before this
    table; ``cards --of`` lists a holder's. The 60-second ``app`` codes are not kept.
    """

    __tablename__ = "issued_cards"
    jti: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    """The volunteer's id (a technician's for ``tech``): the code's ``sub``."""
    kind: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    kid: Mapped[str] = mapped_column(String(100))
    """The key that signed it."""


class KioskEvent(Base):
    """A kiosk's event that moves no 益币 (a technician's audit entry), applied once."""

    __tablename__ = "kiosk_events"
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    kiosk_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Quarantined(Base):
    """An event a kiosk pushed and the hub refused, kept as sent, with the reason.

    Nothing refused reaches the ledger; nothing a kiosk sends is lost. The same event
    sent again (same id, same digest) is the same row: its kiosk is told the same reason.
    """

    __tablename__ = "quarantine"
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    digest: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(Text)
    """The event as the kiosk sent it (JSON, as validated)."""
    received_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("event_id", "digest", name="uq_quarantine_event_digest"),)


class KioskStatus(Base):
    """A kiosk's latest status report: stock per lane, faults, its sync state."""

    __tablename__ = "kiosk_status"
    kiosk_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)


class Technician(Base):
    """Who may open a kiosk's technician mode; kiosks keep a copy to check PINs offline."""

    __tablename__ = "technicians"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class CardPin(Base):
    """A volunteer's printed-card PIN, as a slow hash (``protocol.pins``); kiosks ask for it.

    A cleared PIN keeps its row with no hash, so that kiosks hear of the clearing. ``stamp``
    is the ledger's last sequence when the PIN was set or cleared (read under the ledger's
    lock): a pull page whose range of sequences holds the stamp carries the row
    (``hub.sync.pull``), so a change reaches every kiosk at its next sync whether or not
    the volunteer's balance moved.
    """

    __tablename__ = "card_pins"
    volunteer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    stamp: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Org(Base):
    """A district (区), a street (街道) or a community (社区): where kiosks stand and whose staff
    see them. Balances stay city-wide; the tree only scopes who sees and changes what."""

    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # district, street, community
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_orgs_parent_name"),)


class Staff(Base):
    """A person who signs in to the console: a city's (``org_id`` None) or an org's."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin, staff, viewer
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class StaffSession(Base):
    """A signed-in browser: the cookie's SHA-256 (never the cookie) and its form token."""

    __tablename__ = "staff_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class RedemptionDay(Base):
    """The redemptions of one city day at one kiosk of one item, summed (the console's reports).

    Folded from the ledger in sequence order up to ``report_watermark.seq``
    (``hub.console.store.fold_redemptions``); a charge given back is taken out of its own
    day. ``kiosk_id`` and ``item_name`` are '' where the ledger has none.
    """

    __tablename__ = "redemption_days"
    day: Mapped[int] = mapped_column(Integer, primary_key=True)  # days since 1970-01-01 on the city's clock
    kiosk_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    items: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger)


class ReportWatermark(Base):
    """How far into the ledger ``redemption_days`` has been folded (one row)."""

    __tablename__ = "report_watermark"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class Alert(Base):
    """Something at a kiosk (or in the ledger) a person should see to: open from when it was
    first seen, shown and sent once due (``due_at``: some wait a grace period), seen by a
    person, closed when its cause went away (``hub.console.alerts``)."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))  # a lane, a volunteer: what in the kiosk
    detail: Mapped[str] = mapped_column(Text)  # JSON: the figures the sentence is made of
    opened_at: Mapped[int] = mapped_column(BigInteger)
    due_at: Mapped[int] = mapped_column(BigInteger)
    seen_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seen_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class AlertDelivery(Base):
    """An alert on its way to the office's webhook, tried again after a growing pause."""

    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, unique=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[int] = mapped_column(BigInteger)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class CatalogueItem(Base):
    """An item of the fleet's catalogue: names and price in 益币 managed once for every kiosk
    (sent whole in each pull page), and the company that donated its stock, if one did."""

    __tablename__ = "catalogue_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name_zh: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(Integer)
    donor: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    picture: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The SHA-256 of its picture (``pictures``), which kiosks fetch once and keep."""


class CatalogueChange(Base):
    """The price history: every version of a catalogue item, who made it and when (a name
    it once had is how the donors' report finds its older redemptions)."""

    __tablename__ = "catalogue_history"
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(Integer)
    donor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)


class Donation(Base):
    """Stock a company gave: so many of a catalogue item, for the kiosks of one org (none:
    the city), on a day; the donors' report sets it against what was redeemed."""

    __tablename__ = "donations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))


class Picture(Base):
    """An item's picture as kiosks fetch it: a PNG the hub made from the upload (at most
    512 px a side, no metadata), named by the SHA-256 of its bytes."""

    __tablename__ = "pictures"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)


class HoursMonth(Base):
    """Certified hours per volunteer and month of service (tenths of an hour), added to in the
    import's transaction: what the honour roll ranks by."""

    __tablename__ = "hours_months"
    volunteer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 202611
    tenths: Mapped[int] = mapped_column(BigInteger)


class StockThreshold(Base):
    """When a lane counts as low for the alerts and the fleet page: at or below ``at`` items,
    for one kiosk's lane, one kiosk's item, or an item at every kiosk (``kiosk_id`` none)."""

    __tablename__ = "stock_thresholds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lane: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Voucher(Base):
    """A voucher (兑换券) issued for a partner's service, and its single use."""

    __tablename__ = "vouchers"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the code's jti
    holder: Mapped[str] = mapped_column(String(64), index=True)
    item: Mapped[str] = mapped_column(String(100))
    value: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    kid: Mapped[str] = mapped_column(String(100))  # "" for one first seen at a partner's desk
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_by: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the partner's client id
