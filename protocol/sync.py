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
its status report is kept). :data:`PROTOCOL_VERSION` is 2: version 1 redemptions carry
no item, price, quantity, lane or kiosk, and are still accepted; a push or page that
names no version is version 1, and a hub refuses a push of a version newer than its own.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

PROTOCOL_VERSION = 2
"""2: redemption events may carry item id and name, unit price, quantity, lane and kiosk."""

MAX_EVENTS = 5000
"""Events in one push request, at most (a kiosk sends its outbox in batches of 500)."""

VOLUNTEER_COLUMNS: tuple[Literal["id"], Literal["name"], Literal["balance"]] = ("id", "name", "balance")
"""A pull page's volunteers are rows in this order: a first sync brings millions."""

INT32_MAX = 2**31 - 1
"""The largest amount or price a ledger column holds (a signed 32-bit integer)."""


def _canonical_uuid(value: str) -> str:
    """Any spelling ``uuid.UUID`` reads, written the one way the hub dedupes by."""
    return str(uuid.UUID(value))


EventId = Annotated[StrictStr, AfterValidator(_canonical_uuid)]
"""A kiosk's UUID for the event: the hub applies each one once."""
UnixTime = Annotated[StrictInt, Field(ge=0)]
VolunteerId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Amount = Annotated[StrictInt, Field(gt=0, le=INT32_MAX)]
"""Whole 益币, more than none: the event's kind gives the sign."""
KioskId = Annotated[StrictStr, Field(min_length=1, max_length=36)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


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
    item_name: Annotated[StrictStr, Field(max_length=100)] | None = None
    unit_price: Annotated[StrictInt, Field(ge=0, le=INT32_MAX)] | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=INT32_MAX)] | None = None
    lane: Annotated[StrictInt, Field(ge=0, le=INT32_MAX)] | None = None
    kiosk_id: KioskId | None = None


class ReversalEvent(_Closed):
    """A technician gave a charge back (a refund): ``amount`` 益币 return to the volunteer."""

    kind: Literal["reversal"]
    id: EventId
    at: UnixTime
    volunteer_id: VolunteerId
    amount: Amount


class AuditRecord(_Open):
    """A technician's change as the kiosk's audit log holds it."""

    actor: StrictStr
    action: StrictStr
    target: StrictStr
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class AuditEvent(_Closed):
    """A technician's change or PIN event, applied once like a ledger event; moves no 益币."""

    kind: Literal["audit"]
    id: EventId
    at: UnixTime
    body: AuditRecord


class LaneStatus(_Open):
    lane: StrictInt
    item: StrictStr | None = None
    stock: StrictInt | None = None
    capacity: StrictInt | None = None
    enabled: StrictBool | None = None
    fault: StrictStr | None = None


class StatusReport(_Open):
    """Stock per lane, faults, dispenses in doubt and the kiosk's sync state."""

    lanes: list[LaneStatus] = Field(default_factory=list)
    in_doubt: StrictInt | None = None
    queued_events: StrictInt | None = None
    sync_cursor: StrictInt | None = None
    last_good_sync: StrictInt | None = None


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
    """An event applied (or seen before): the hub ledger's sequence it was applied at."""

    model_config = ConfigDict(frozen=True)

    id: StrictStr
    seq: StrictInt
    duplicate: StrictBool


class PushReply(BaseModel):
    """One acknowledgement per event pushed, in order."""

    acks: list[Ack]


class Technician(_Tolerant):
    """Who may open a kiosk's technician mode, with their PIN's hash (``protocol.pins``)."""

    id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    name: Annotated[StrictStr, Field(max_length=100)]
    pin_hash: Annotated[StrictStr, Field(max_length=200)]


class Jwks(_Tolerant):
    """The trust list: the hub's live public keys (``protocol.codes.public_jwk``)."""

    keys: list[dict[str, Any]]


class PullPage(_Tolerant):
    """``GET /v1/sync/pull?cursor=N&limit=M``: the volunteers changed after the cursor.

    ``volunteers`` are rows ``[id, name, balance]`` (``columns`` names them), each
    balance as of ``cursor``, the page's new cursor; ``more`` says another page follows.
    The trust list, revoked cards and technicians come whole with every page.
    ``kiosk_id`` (protocol 2) is the kiosk the pulling token belongs to.
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
