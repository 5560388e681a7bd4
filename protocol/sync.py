"""The kiosk ↔ hub sync contract: what a kiosk pushes and what a pull page holds.

Both sides validate every message with these models and nothing else: the kiosk builds
its push with them and checks each pull page before storing it; the hub takes them as
its request and response bodies, so a malformed event is refused whole (HTTP 422, the
field named in ``detail``) before anything is applied, and its OpenAPI shows these
schemas. A push event is one of four kinds, told apart by ``kind``: ``redemption`` and
``reversal`` move 益币 (a positive whole ``amount``; the sign is the kind's), ``audit``
and ``status`` carry a ``body``. Types are strict (an amount is an ``int``, never a bool
or a string; ids are strings, never numbers turned into strings); an event's own fields
are closed (an unknown one is an error), a body's are open (what a newer kiosk adds to
its status report is kept, within a size bound). Every string is bounded, and ids hold no
control characters, so nothing a database cannot store gets past the contract.
:data:`PROTOCOL_VERSION` is 5: a pull page carries the fleet's catalogue (``catalogue``: the
items, names and prices the street office manages at the hub); version 4 added the printed
cards' PINs set or cleared (``card_pins``); version 3 made a reversal name the charge it
gives back (``reverses``), version 2 added a redemption's item, price, quantity, lane and
kiosk. Older pushes are still accepted (a reversal without ``reverses`` is refused by the
hub, event by event); a push or page that names no version is version 1, and a hub refuses a push of a version
newer than its own. An acknowledgement may say the hub refused the event (``refused``,
one of :class:`Refused`): the kiosk stops sending it.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

PROTOCOL_VERSION = 5
"""2: redemption events may carry item id and name, unit price, quantity, lane and kiosk.
3: a reversal names the charge it gives back (``reverses``); an ack may say ``refused``.
4: a pull page carries the printed cards' PINs set or cleared (``card_pins``); a pull may
name the cursor from which the kiosk still needs them (``pins_cursor``).
5: a pull page carries the fleet's catalogue (``catalogue``), whole, with every page, and the
kiosk's honour roll (``honour``) when it changed since the pull's ``honour_stamp``."""

MAX_EVENTS = 5000
"""Events in one push request, at most (a kiosk sends its outbox in batches of 500)."""

VOLUNTEER_COLUMNS: tuple[Literal["id"], Literal["name"], Literal["balance"]] = ("id", "name", "balance")
"""A pull page's volunteers are rows in this order: a first sync brings millions."""

INT32_MAX = 2**31 - 1
"""The largest amount or price a ledger column holds (a signed 32-bit integer)."""
INT64_MAX = 2**63 - 1
"""The largest time or sequence a 64-bit column holds."""

ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
"""An id: no control characters (PostgreSQL's text holds no NUL; nobody types a tab in an id)."""
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""A name or a note: no control characters but tab and line breaks."""
MAX_RECORD_JSON = 4000
"""Characters of JSON that an open part of a body (an audit entry's before or after, what a
newer kiosk adds to a body) may take, at most."""


def _canonical_uuid(value: str) -> str:
    """Any spelling ``uuid.UUID`` reads, written the one way the hub dedupes by."""
    return str(uuid.UUID(value))


def _json_text(value: Any, limit: int = MAX_RECORD_JSON) -> Any:
    """``value`` if a database can keep it as JSON: UTF-8 text, finite numbers, ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("holds text that is not Unicode") from None
    except (TypeError, ValueError):
        raise ValueError("holds a value JSON cannot carry (such as a number that is not finite)") from None
    if len(text) > limit:
        raise ValueError(f"is {len(text)} characters of JSON, more than {limit}")
    return value


EventId = Annotated[StrictStr, Field(max_length=45), AfterValidator(_canonical_uuid)]
"""A kiosk's UUID for the event: the hub applies each one once."""
UnixTime = Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
"""Seconds since 1970; whether it is a sane time is the hub's judgement (``Refused``)."""
# a constrained string also refuses text that is not Unicode (a lone surrogate from a JSON
# "\ud800" escape), which no database stores: every string below has a pattern
VolunteerId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
Amount = Annotated[StrictInt, Field(gt=0, le=INT32_MAX)]
"""Whole 益币, more than none: the event's kind gives the sign (the hub caps one event lower)."""
KioskId = Annotated[StrictStr, Field(min_length=1, max_length=36, pattern=ID_PATTERN)]
Word = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""An audit entry's actor or action."""
Target = Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=ID_PATTERN)]
Name = Annotated[StrictStr, Field(max_length=100, pattern=TEXT_PATTERN)]
Note = Annotated[StrictStr, Field(max_length=200, pattern=TEXT_PATTERN)]


class Refused(StrEnum):
    """Why a hub refused an event it could read (``Ack.refused``); the event is kept in the
    hub's quarantine for an operator, and the kiosk stops sending it."""

    UNKNOWN_VOLUNTEER = "unknown_volunteer"
    AMOUNT_OVER_LIMIT = "amount_over_limit"
    AT_OUT_OF_WINDOW = "at_out_of_window"
    CHARGE_NOT_NAMED = "charge_not_named"
    """A reversal that names no charge (every reversal before protocol 3)."""
    NO_SUCH_CHARGE = "no_such_charge"
    """The charge a reversal names is not this kiosk's charge for this volunteer."""
    REVERSAL_EXCEEDS_CHARGE = "reversal_exceeds_charge"
    ALREADY_REVERSED = "already_reversed"
    CONFLICT = "conflict"
    """An event id the hub holds with other content."""


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Open(BaseModel):
    """A body: what a newer kiosk adds is kept, as long as a database can keep it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="after")
    def _extras_fit(self) -> Any:
        if self.__pydantic_extra__:
            _json_text(self.__pydantic_extra__)
        return self


class _Tolerant(BaseModel):
    """What the hub sends down: a field a newer hub adds is ignored by an older kiosk."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class RedemptionEvent(_Closed):
    """A charge: the machine confirmed the drop of one item held for this volunteer.

    The item fields (protocol 2) are what a report needs; a version 1 kiosk sends none
    of them, and a kiosk that does not know its own id leaves ``kiosk_id`` out: the hub
    records the kiosk its token names either way.
    """

    kind: Literal["redemption"]
    id: EventId
    at: UnixTime
    volunteer_id: VolunteerId
    amount: Amount
    item_id: Annotated[StrictInt, Field(ge=0, le=INT32_MAX)] | None = None
    item_name: Name | None = None
    unit_price: Annotated[StrictInt, Field(ge=0, le=INT32_MAX)] | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=INT32_MAX)] | None = None
    lane: Annotated[StrictInt, Field(ge=0, le=INT32_MAX)] | None = None
    kiosk_id: KioskId | None = None


class ReversalEvent(_Closed):
    """A technician gave a charge back (a refund): ``amount`` 益币 return to the volunteer.

    ``reverses`` (protocol 3) is the charge's event id: the hub applies a reversal only of
    a charge it holds from the same kiosk for the same volunteer, for at most its amount,
    once. A reversal without it (protocol 2 and before) is refused (``charge_not_named``).
    """

    kind: Literal["reversal"]
    id: EventId
    at: UnixTime
    volunteer_id: VolunteerId
    amount: Amount
    reverses: EventId | None = None


class AuditRecord(_Open):
    """A technician's change as the kiosk's audit log holds it (each part bounded)."""

    actor: Word
    action: Word
    target: Target
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    @field_validator("before", "after")
    @classmethod
    def _fits(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _json_text(value)


class AuditEvent(_Closed):
    """A technician's change or PIN event, applied once like a ledger event; moves no 益币."""

    kind: Literal["audit"]
    id: EventId
    at: UnixTime
    body: AuditRecord


class LaneStatus(_Open):
    lane: StrictInt
    item: Note | None = None
    stock: StrictInt | None = None
    capacity: StrictInt | None = None
    enabled: StrictBool | None = None
    fault: Note | None = None


class StatusReport(_Open):
    """Stock per lane, faults, dispenses in doubt and the kiosk's sync state."""

    lanes: Annotated[list[LaneStatus], Field(max_length=500)] = Field(default_factory=list)
    in_doubt: StrictInt | None = None
    queued_events: StrictInt | None = None
    sync_cursor: StrictInt | None = None
    last_good_sync: StrictInt | None = None
    trust_synced_at: StrictInt | None = None
    """When the kiosk last took the trust list (the hub warns before it grows too old)."""
    trust_max_age_s: StrictInt | None = None
    """How old the kiosk lets its trust list get before it takes no more codes."""


class StatusEvent(_Closed):
    """The kiosk's status report after each push: the hub keeps only the newest (ack seq 0)."""

    kind: Literal["status"]
    id: EventId
    at: UnixTime
    body: StatusReport


Event = Annotated[RedemptionEvent | ReversalEvent | AuditEvent | StatusEvent, Field(discriminator="kind")]
"""One pushed event, told apart by its ``kind``."""
LedgerEvent = RedemptionEvent | ReversalEvent
"""The events that move 益币."""


class PushRequest(_Closed):
    """``POST /v1/sync/push``: events in the order the kiosk wrote them."""

    protocol: Annotated[StrictInt, Field(ge=1, le=PROTOCOL_VERSION)] = 1
    events: Annotated[list[Event], Field(max_length=MAX_EVENTS)]


class Ack(BaseModel):
    """An event applied (or seen before): the hub ledger's sequence it was applied at.

    ``refused`` (protocol 3) says the hub did not apply the event and why (a
    :class:`Refused` value; a kiosk shows one it does not know as it is): its ``seq`` is 0
    and the hub keeps the event in its quarantine. ``duplicate`` then says it was refused
    before. A hub before protocol 3 never refuses an event it could read.
    """

    model_config = ConfigDict(frozen=True)

    id: StrictStr
    seq: StrictInt
    duplicate: StrictBool
    refused: StrictStr | None = None


class PushReply(BaseModel):
    """One acknowledgement per event pushed, in order."""

    acks: list[Ack]


class Technician(_Tolerant):
    """Who may open a kiosk's technician mode, with their PIN's hash (``protocol.pins``)."""

    id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    name: Annotated[StrictStr, Field(max_length=100)]
    pin_hash: Annotated[StrictStr, Field(max_length=200)]


CardPinRow = tuple[
    Annotated[StrictStr, Field(min_length=1, max_length=64)],
    Annotated[StrictStr, Field(max_length=200)] | None,
]
"""``[volunteer_id, pin_hash]``: a printed card's PIN hash (``protocol.pins``), or null once cleared."""


class Jwks(_Tolerant):
    """The trust list: the hub's live public keys (``protocol.codes.public_jwk``)."""

    keys: list[dict[str, Any]]


class CatalogueEntry(_Tolerant):
    """An item of the fleet's catalogue as the hub sends it: the hub's id, names and price.

    A kiosk keeps each one as its own item linked by ``id``; technicians map lanes to it
    and refill it, but its names and price are the hub's (they change at the next sync).
    """

    id: Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
    name_zh: Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=ID_PATTERN)]
    name_en: Annotated[StrictStr, Field(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    price: Amount
    picture: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    """The SHA-256 of the item's picture, a PNG the kiosk fetches once from
    ``/v1/catalogue/pictures/{sha256}`` (and checks against this name)."""


HonourRow = tuple[Annotated[StrictStr, Field(max_length=8)], Annotated[StrictInt, Field(ge=0)]]
"""``[masked name, tenths of an hour]``: a place on an honour roll (never a balance)."""
StandingRow = tuple[
    Annotated[StrictStr, Field(min_length=1, max_length=64)],
    Annotated[StrictInt, Field(ge=0)],
    Annotated[StrictInt, Field(ge=1)],
]
"""``[volunteer_id, tenths this month, place in the community]``: shown to that volunteer only."""


class HonourBoard(_Tolerant):
    """光荣榜 (protocol 5): the kiosk's community's and street's top volunteers by certified
    hours, this month (``month``: ``YYYYMM``, the city's) and all time, names masked; and each
    community volunteer's own standing this month. ``stamp`` names this content: a pull
    that sends it back gets no board until the content changes."""

    stamp: Annotated[StrictStr, Field(max_length=32)]
    month: Annotated[StrictInt, Field(ge=190001, le=999912)]
    community: Name | None = None
    street: Name | None = None
    community_month: Annotated[list[HonourRow], Field(max_length=50)] = Field(default_factory=list)
    community_all: Annotated[list[HonourRow], Field(max_length=50)] = Field(default_factory=list)
    street_month: Annotated[list[HonourRow], Field(max_length=50)] = Field(default_factory=list)
    street_all: Annotated[list[HonourRow], Field(max_length=50)] = Field(default_factory=list)
    standings: Annotated[list[StandingRow], Field(max_length=100_000)] = Field(default_factory=list)


class PullPage(_Tolerant):
    """``GET /v1/sync/pull?cursor=N&limit=M``: the volunteers changed after the cursor.

    ``volunteers`` are rows ``[id, name, balance]`` (``columns`` names them), each
    balance as of ``cursor``, the page's new cursor; ``more`` says another page follows.
    The trust list, revoked cards and technicians come whole with every page.
    ``kiosk_id`` (protocol 2) is the kiosk the pulling token belongs to. ``card_pins``
    (protocol 4) are the printed cards' PINs set or cleared (a null hash) at a ledger
    sequence from the pull's ``pins_cursor`` (else its cursor) to the page's ``cursor``,
    both included: a kiosk that stores each page's rows, and the page's cursor as its
    ``pins_cursor``, holds every card PIN as of its cursor. ``None`` from a hub before
    protocol 4, which knows of no card PINs: the kiosk changes none.
    """

    protocol: Annotated[StrictInt, Field(ge=1)] = 1
    cursor: Annotated[StrictInt, Field(ge=0)]
    more: StrictBool
    columns: tuple[Literal["id"], Literal["name"], Literal["balance"]] = VOLUNTEER_COLUMNS
    volunteers: list[tuple[StrictStr, StrictStr, StrictInt]]
    jwks: Jwks
    revoked: list[StrictStr]
    technicians: list[Technician]
    kiosk_id: StrictStr | None = None
    card_pins: list[CardPinRow] | None = None
    catalogue: Annotated[list[CatalogueEntry], Field(max_length=1000)] | None = None
    honour: HonourBoard | None = None
