"""The hub's use cases: import hours, balances, kiosks and their tokens, technicians, printed
cards' PINs, codes and keys.

Each method is one unit of work on the hub's database. Money is integer 益币 in an
append-only ledger; a balance is the sum of a volunteer's entries. A client's token is
kept as a hash and may be revoked or rotated (each change audited, ``hub_audit``);
signing keys are stored sealed with the key-encryption key (``hub/kek.py``), which a hub
needs before it can sign (:meth:`Hub.unlock`). One key is active and signs; a rotation
retires it, and a retired key stays in the trust list until every code it can have signed
has expired (:data:`KEEP_S`). Every card and technician code the hub signs is recorded, so
that only a card it issued can be revoked by its id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, and_, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from protocol.codes import LEEWAY_S, MAX_LIFETIME_S, CodeKind, issue_code, public_jwk
from protocol.pins import hash_pin
from protocol.sqlite import reader

from . import hours as hours_csv
from .honour import Boards, add_hours
from .ingest import EventLimits
from .kek import Kek, KekError, find_kek, is_sealed, looked_in, make_key_file
from .models import (
    CardPin,
    HubAudit,
    IssuedCard,
    Kiosk,
    KioskStatus,
    LedgerEntry,
    Quarantined,
    RevokedCard,
    SigningKey,
    Technician,
    TokenGeneration,
    Volunteer,
)
from .tokens import TokenCache

DEFAULT_ISSUER = "timebank-hub"
RATE = 10  # 益币 per certified hour
CHUNK = 1000  # rows an import writes per statement (and per progress report)
LOOKUP = 10_000  # ids an import looks up per query (SQLite takes 32766 parameters, PostgreSQL 65535)
MAX_RATE = (2**31 - 1) // 24  # 24 h at this rate still fits the ledger's 32-bit amount
ROLES = ("kiosk", "app", "partner")
"""Clients with tokens: kiosks, the volunteer app's server, and partners who check vouchers."""
APP_CODE_S = 60
"""A phone code's life: the volunteer app asks for a fresh one each minute (kiosks accept up
to ``MAX_LIFETIME_S[app]``)."""
KEEP_S = max(MAX_LIFETIME_S.values()) + LEEWAY_S
"""How long a retired key stays in the trust list after it stopped signing: until the last
code it can have signed has expired (the longest lifetime a kiosk accepts, a card's five
years, and the leeway kiosks give a code's expiry). Kiosks have no limit on the keys they hold."""
TOKEN_GRACE_S = 24 * 3600
"""How long a rotated token keeps working by default, so the kiosk can switch to its new one."""
ACTOR = "kiosk-hub"
"""Who changes credentials at the hub: its command line (the audit records when)."""
LEDGER_LOCK = 0x7A1B_0001  # pg_advisory_xact_lock key of the ledger's writers
CARD_PIN_DIGITS = 6
"""A printed card's PIN is exactly six digits, as a Chinese bank card's is (see ``set_card_pin``)."""


@dataclass(frozen=True)
class ImportReport:
    imported: int
    duplicates: int
    errors: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "duplicates": self.duplicates, "errors": self.errors}

    def summary(self) -> str:
        """One line for a person: the counts, and the first refused row if any."""
        line = f"imported {self.imported}, duplicates {self.duplicates}, refused {len(self.errors)}"
        if self.errors:
            first = self.errors[0]
            line += f" (first: line {first['line']}: {first['reason']})"
        return line


class UnknownVolunteer(LookupError):
    pass


class ImportRefused(ValueError):
    """The database refused an import; none of it was applied."""


class UnknownClient(LookupError):
    """No kiosk (or app) of that id and role."""


class UnknownTechnician(LookupError):
    """No technician of that id, or one removed (``kiosk-hub tech remove``)."""


class UnknownKey(LookupError):
    """No signing key of that kid."""


class UnknownCard(LookupError):
    """No card of that id was issued by this hub (or recorded: cards from before h0007 are not)."""


class NotACard(ValueError):
    """A technician's code: kiosks check revocations for cards only, and it expires within hours."""

    def __init__(self, jti: str, holder: str, expires_at: int) -> None:
        super().__init__(jti)
        self.jti, self.holder, self.expires_at = jti, holder, expires_at


@dataclass(frozen=True)
class Issued:
    """A code the hub signed, with what a printed card shows of it."""

    code: str
    card_id: str
    """The code's ``jti``: what ``revoke-card`` takes."""
    holder: str
    name: str
    expires_at: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Hub:
    def __init__(
        self,
        engine: Engine,
        *,
        kek: Kek | None = None,
        issuer: str = DEFAULT_ISSUER,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        limits: EventLimits | None = None,
    ) -> None:
        self.engine = engine
        self.kek = kek
        """Seals and opens the signing keys; none until :meth:`unlock` (or given): no signing."""
        self.issuer = issuer
        self.clock = clock
        self.limits = limits or EventLimits()
        """What one pushed event may do (``hub.ingest``; ``HUB_MAX_EVENT_AMOUNT``)."""
        self.boards = Boards()
        """The kiosks' honour rolls, each made at most once a minute (``hub.honour``)."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(reader(engine), expire_on_commit=False)
        self._tokens = TokenCache(monotonic)

    @contextmanager
    def unit(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite: a snapshot that waits for no writer)."""
        with self._readers() as session, session.begin():
            yield session

    @staticmethod
    def lock_ledger(s: Session) -> None:
        """Take the ledger's write lock until the transaction ends.

        Kiosks pull by ``seq > cursor``, so entries must become visible in ``seq`` order:
        a transaction that took seq 10 and committed after one that took seq 11 would be
        skipped by a kiosk that had read 11 already. On PostgreSQL an advisory lock orders
        the writers; SQLite's ``BEGIN IMMEDIATE`` does so already.
        """
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK})

    # --- hours -------------------------------------------------------------------------

    def import_hours(
        self, data: bytes, rate: int = RATE, progress: Callable[[int, int], None] | None = None
    ) -> ImportReport:
        """Credit ``hours × rate`` for each new record, all in one transaction.

        Rows that do not fit are refused with their line before the database is touched;
        a record seen before is a duplicate (skipped) or a conflict (refused). The good rows
        go in together or not at all: if the database still refuses one, nothing of the
        file is applied and :class:`ImportRefused` says why. ``progress(done, total)`` is
        called as the new rows are written. Raises :class:`hours.HoursFileError` for a
        file that cannot be read as a whole.
        """
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"the rate must be 1 to {MAX_RATE} 益币 an hour")
        now = int(self.clock())
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        rows, errors = hours_csv.parse(data, today)
        duplicates = 0
        try:
            with self.unit() as s:
                new = []
                stored = self._stored_credits(s, rows)
                for r in rows:
                    known = stored.get(r.record_id) or stored.get(r.raw_record_id)
                    if known is None:
                        new.append(r)
                    elif known.differs_from(r.content):
                        errors.append(hours_csv.conflict(r, "the ledger has it with", known))
                    else:
                        duplicates += 1
                fresh, repeated, conflicts = hours_csv.first_of_each(new)
                duplicates += repeated
                errors += conflicts
                # from here to the commit only: the reads above need no lock (a record another
                # import adds meanwhile makes the unique index refuse this one, all of it)
                self.lock_ledger(s)
                self._add_volunteers(s, {r.volunteer_id: r.name for r in fresh})
                for start in range(0, len(fresh), CHUNK):
                    chunk = fresh[start : start + CHUNK]
                    s.execute(insert(LedgerEntry), [self._credit(r, rate, now) for r in chunk])
                    if progress is not None:
                        progress(start + len(chunk), len(fresh))
                add_hours(s, [(r.volunteer_id, r.certified_on, r.hours) for r in fresh])
            self.boards.clear()  # this worker's kiosks see the new hours at once, the others within a minute
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ImportRefused(f"the database refused the import, nothing was applied: {reason}") from exc
        errors.sort(key=lambda e: e.line)
        return ImportReport(len(fresh), duplicates, [{"line": e.line, "reason": e.reason} for e in errors])

    @staticmethod
    def _stored_credits(s: Session, rows: list[hours_csv.HoursRow]) -> dict[str, hours_csv.Content]:
        """What the ledger holds of the rows' record ids (also as an older import wrote them)."""
        ids = sorted({r.record_id for r in rows} | {r.raw_record_id for r in rows})
        stored: dict[str, hours_csv.Content] = {}
        for start in range(0, len(ids), LOOKUP):
            found = s.execute(
                select(LedgerEntry.record_id, LedgerEntry.volunteer_id, LedgerEntry.note).where(
                    LedgerEntry.record_id.in_(ids[start : start + LOOKUP])
                )
            )
            for record_id, volunteer_id, stored_note in found:
                assert record_id is not None  # found by it
                stored[record_id] = hours_csv.stored_content(volunteer_id, stored_note)
        return stored

    @staticmethod
    def _add_volunteers(s: Session, names: dict[str, str]) -> None:
        """Volunteers met for the first time (a known volunteer keeps their name)."""
        ids = sorted(names)
        for start in range(0, len(ids), LOOKUP):
            chunk = ids[start : start + LOOKUP]
            known = set(s.scalars(select(Volunteer.id).where(Volunteer.id.in_(chunk))))
            new = [{"id": v, "name": names[v], "flagged": False} for v in chunk if v not in known]
            if new:
                s.execute(insert(Volunteer), new)

    @staticmethod
    def _credit(r: hours_csv.HoursRow, rate: int, now: int) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "volunteer_id": r.volunteer_id,
            "kind": "credit",
            "amount": r.coins(rate),
            "record_id": r.record_id,
            "note": r.note,
            "at": now,
        }

    # --- balances ----------------------------------------------------------------------

    def balance(self, volunteer_id: str) -> dict[str, Any]:
        with self.reading() as s:
            person = s.get(Volunteer, volunteer_id)
            if person is None:
                raise UnknownVolunteer(volunteer_id)
            total = s.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.volunteer_id == volunteer_id
                )
            )
            return {"volunteer_id": volunteer_id, "balance": int(total or 0), "flagged": person.flagged}

    def volunteer_name(self, volunteer_id: str) -> str:
        return self.holder_name(volunteer_id, CodeKind.CARD)

    # --- kiosks ------------------------------------------------------------------------

    def add_kiosk(self, name: str, role: str = "kiosk") -> dict[str, str]:
        """Register a kiosk (or, with ``role="app"``, the volunteer app's server; with
        ``role="partner"``, a partner who checks vouchers).

        Its token is shown once and kept only as a hash.
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        token = secrets.token_urlsafe(32)
        kiosk_id = str(uuid.uuid4())
        try:
            with self.unit() as s:
                s.add(
                    Kiosk(
                        id=kiosk_id,
                        name=name,
                        token_hash=token_hash(token),
                        created_at=int(self.clock()),
                        role=role,
                    )
                )
        except IntegrityError as exc:
            raise ValueError(f"a client named {name!r} exists already") from exc
        key = {"kiosk": "kiosk_id", "app": "app_id", "partner": "partner_id"}[role]
        return {key: kiosk_id, "token": token}

    def client_for_token(self, token: str, role: str = "kiosk") -> str | None:
        """The kiosk (or app) a token belongs to: its current token, or the one before it in its grace.

        A revoked client has none. Known tokens are remembered (``hub/tokens.py``); a token
        of another role is not accepted.
        """
        digest = token_hash(token)
        now = self.clock()
        if self._tokens.due():
            with self.reading() as s:
                self._tokens.saw_generation(self._generation(s))
        entry = self._tokens.get(digest, now)
        if entry is None:
            with self.reading() as s:
                generation = self._generation(s)
                found = s.execute(
                    select(Kiosk.id, Kiosk.role, Kiosk.token_hash, Kiosk.previous_token_until).where(
                        Kiosk.revoked_at.is_(None),
                        or_(
                            Kiosk.token_hash == digest,
                            and_(Kiosk.previous_token_hash == digest, Kiosk.previous_token_until > now),
                        ),
                    )
                ).first()
            self._tokens.saw_generation(generation)
            if found is None:
                return None
            grace = None if found.token_hash == digest else found.previous_token_until
            self._tokens.put(digest, str(found.id), str(found.role), generation, grace)
            return str(found.id) if found.role == role else None
        return entry.client_id if entry.role == role else None

    def remembered_client(self, token: str, role: str = "kiosk") -> str | None:
        """The client a token belongs to if :meth:`client_for_token` remembers it; no database.

        None when it does not, when the token generation is due to be read again, or when
        the token is of another role: ask ``client_for_token``.
        """
        entry = self._tokens.get(token_hash(token), self.clock())
        return None if entry is None or entry.role != role else entry.client_id

    def revoke_client(self, client_id: str, role: str = "kiosk", actor: str = ACTOR) -> int:
        """Its tokens stop working (at once here, within a second in every hub process); when.

        Revoking a revoked client changes nothing and says when it was revoked.
        """
        now = int(self.clock())
        with self.unit() as s:
            row = self._client(s, client_id, role)
            if row.revoked_at is not None:
                return row.revoked_at
            row.revoked_at = now
            row.previous_token_hash = row.previous_token_until = None
            self._audit(s, "token_revoked", row, {}, actor)
            generation = self._raise_generation(s)
        self._tokens.saw_generation(generation)
        return now

    def rotate_token(
        self, client_id: str, role: str = "kiosk", grace_s: int = TOKEN_GRACE_S
    ) -> dict[str, Any]:
        """A new token, shown once; the old one keeps working for ``grace_s`` seconds, then stops.

        A client with a token in its grace already loses that one now. A revoked client gets
        a new token and is revoked no more; its revoked token gets no grace.
        """
        if grace_s < 0:
            raise ValueError("the grace period cannot be negative")
        token = secrets.token_urlsafe(32)
        now = int(self.clock())
        with self.unit() as s:
            row = self._client(s, client_id, role)
            was_revoked = row.revoked_at is not None
            keep_old = grace_s > 0 and not was_revoked
            row.previous_token_hash = row.token_hash if keep_old else None
            row.previous_token_until = now + grace_s if keep_old else None
            row.token_hash = token_hash(token)
            row.revoked_at = None
            until = row.previous_token_until
            self._audit(s, "token_rotated", row, {"previous_token_until": until, "was_revoked": was_revoked})
            generation = self._raise_generation(s)
        self._tokens.saw_generation(generation)
        key = {"kiosk": "kiosk_id", "app": "app_id", "partner": "partner_id"}[role]
        return {key: client_id, "token": token, "previous_token_until": until}

    @staticmethod
    def _client(s: Session, client_id: str, role: str) -> Kiosk:
        row = s.get(Kiosk, client_id, with_for_update=True)
        if row is None or row.role != role:
            raise UnknownClient(client_id)
        return row

    def _audit(
        self, s: Session, action: str, client: Kiosk, detail: dict[str, Any], actor: str = ACTOR
    ) -> None:
        body = json.dumps({"name": client.name, **detail}, ensure_ascii=False)
        target = f"{client.role}:{client.id}"
        s.add(HubAudit(at=int(self.clock()), actor=actor, action=action, target=target, detail=body))

    @staticmethod
    def _generation(s: Session) -> int:
        return int(s.scalar(select(TokenGeneration.generation).where(TokenGeneration.id == 1)) or 0)

    def _raise_generation(self, s: Session) -> int:
        raised = TokenGeneration.generation + 1
        s.execute(update(TokenGeneration).where(TokenGeneration.id == 1).values(generation=raised))
        return self._generation(s)

    def audit_log(self) -> list[dict[str, Any]]:
        """Every change to a client's credentials, oldest first."""
        with self.reading() as s:
            return [
                {"at": a.at, "actor": a.actor, "action": a.action, "target": a.target, **json.loads(a.detail)}
                for a in s.scalars(select(HubAudit).order_by(HubAudit.seq))
            ]

    def kiosks(self) -> list[dict[str, Any]]:
        """Every kiosk with its token's state, its latest status report (None before its first
        sync) and how many of its events wait in the quarantine.

        ``token`` is ``active``, ``rotating`` (the previous token works until
        ``previous_token_until``) or ``revoked`` (since ``revoked_at``).
        """
        now = self.clock()
        with self.reading() as s:
            rows = s.execute(
                select(Kiosk, KioskStatus)
                .outerjoin(KioskStatus, KioskStatus.kiosk_id == Kiosk.id)
                .where(Kiosk.role == "kiosk")
                .order_by(Kiosk.name)
            ).all()
            counted = select(Quarantined.kiosk_id, func.count()).group_by(Quarantined.kiosk_id)
            held = {str(kiosk): int(n) for kiosk, n in s.execute(counted)}
            return [_kiosk_row(k, st, now, held.get(k.id, 0)) for k, st in rows]

    def quarantined(self, limit: int = 100) -> list[dict[str, Any]]:
        """The events kiosks pushed and the hub refused, newest first, each as it was sent."""
        with self.reading() as s:
            rows = s.execute(
                select(Quarantined, Kiosk.name)
                .outerjoin(Kiosk, Kiosk.id == Quarantined.kiosk_id)
                .order_by(Quarantined.seq.desc())
                .limit(limit)
            ).all()
            return [
                {
                    "received_at": q.received_at,
                    "kiosk_id": q.kiosk_id,
                    "kiosk": name,
                    "reason": q.reason,
                    "kind": q.kind,
                    "event_id": q.event_id,
                    "event": json.loads(q.event),
                }
                for q, name in rows
            ]

    # --- technicians -------------------------------------------------------------------

    def set_technician(self, tech_id: str, name: str, pin: str) -> None:
        """Add a technician or change their name and PIN; kiosks get it on their next sync."""
        if not (pin.isdigit() and pin.isascii() and 6 <= len(pin) <= 8):
            # every kiosk holds every technician's PIN hash: four digits fall to an offline
            # guess in minutes, six take a thousand times longer (docs/sync.md)
            raise ValueError("a PIN is 6 to 8 digits")
        with self.unit() as s:
            s.merge(
                Technician(
                    id=tech_id, name=name, pin_hash=hash_pin(pin), active=True, updated_at=int(self.clock())
                )
            )

    def remove_technician(self, tech_id: str) -> None:
        with self.unit() as s:
            row = s.get(Technician, tech_id)
            if row is None:
                raise LookupError(f"no technician {tech_id}")
            row.active = False
            row.updated_at = int(self.clock())

    # --- printed cards' PINs -----------------------------------------------------------

    def set_card_pin(self, volunteer_id: str, pin: str) -> None:
        """Give a volunteer's printed card a PIN (a new one replaces the old); kiosks ask for it
        after the card is scanned from their next sync on. Raises ``ValueError`` for a PIN that
        is not six digits, :class:`UnknownVolunteer` for a volunteer the hub does not know."""
        if not (pin.isascii() and pin.isdigit() and len(pin) == CARD_PIN_DIGITS):
            # every kiosk holds every card PIN's hash, so a stolen kiosk (or its token) lets the
            # hashes be guessed offline: at scrypt's ~50 ms a guess, six digits take some 14
            # hours of one core per volunteer, four digits eight minutes. The guesser must also
            # hold that volunteer's card, and the PINs can be changed after a theft; six is
            # what volunteers already know from their bank cards (docs/security.md)
            raise ValueError(f"a card PIN is {CARD_PIN_DIGITS} digits")
        self._stamp_card_pin(volunteer_id, hash_pin(pin))  # hashed before the lock is taken

    def clear_card_pin(self, volunteer_id: str) -> bool:
        """The card works without a PIN again (from each kiosk's next sync); False if it had none."""
        return self._stamp_card_pin(volunteer_id, None)

    def _stamp_card_pin(self, volunteer_id: str, pin_hash: str | None) -> bool:
        """Store the hash (None: cleared) stamped with the ledger's last sequence, under its lock.

        The lock makes the stamp exact: every entry committed before has a sequence up to
        it, every entry after a higher one, so a pull page that holds an entry above the
        stamp was read after this commit and carries the row (``hub.sync.pull``).
        """
        now = int(self.clock())
        with self.unit() as s:
            if s.get(Volunteer, volunteer_id) is None:
                raise UnknownVolunteer(volunteer_id)
            row = s.get(CardPin, volunteer_id)
            if pin_hash is None and (row is None or row.pin_hash is None):
                return False
            self.lock_ledger(s)
            stamp = int(s.scalar(select(func.coalesce(func.max(LedgerEntry.seq), 0))) or 0)
            s.merge(CardPin(volunteer_id=volunteer_id, pin_hash=pin_hash, stamp=stamp, updated_at=now))
            action = "card_pin_set" if pin_hash is not None else "card_pin_cleared"
            target = f"volunteer:{volunteer_id}"
            s.add(HubAudit(at=now, actor=ACTOR, action=action, target=target, detail="{}"))
        return True

    # --- signing keys and codes --------------------------------------------------------

    def rotate_key(self) -> str:
        """Make a new active key; the one that was active retires (see :data:`KEEP_S`)."""
        kek = self._kek()
        key = Ed25519PrivateKey.generate()
        now = int(self.clock())
        kid = f"hub-{dt.datetime.fromtimestamp(now, dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        with self.unit() as s:
            for old in s.scalars(select(SigningKey).where(SigningKey.retired.is_(False)).with_for_update()):
                old.retired, old.retired_at, old.keep_until = True, now, now + KEEP_S
            s.flush()  # retired before the new key is added: one active key (a unique index)
            generation = (s.scalar(select(func.max(SigningKey.generation))) or 0) + 1
            s.add(
                SigningKey(
                    kid=kid,
                    private_key=kek.seal(kid, pem),
                    public_jwk=json.dumps(public_jwk(key, kid)),
                    created_at=now,
                    generation=generation,
                    retired=False,
                )
            )
        return kid

    def signing_keys(self) -> list[dict[str, Any]]:
        """Every signing key, oldest first: its state (``active``, ``retired``), when it was made
        and retired, until when it stays in the trust list, and whether it is there now."""
        now = self.clock()
        with self.reading() as s:
            rows = list(s.scalars(select(SigningKey).order_by(SigningKey.generation)))
        return [
            {
                "kid": k.kid,
                "state": "retired" if k.retired else "active",
                "created": iso(k.created_at),
                "retired": iso(k.retired_at),
                "keep_until": iso(k.keep_until),
                "in_jwks": _published(k, now),
            }
            for k in rows
        ]

    def drop_key(self, kid: str) -> None:
        """Take a retired key out of the trust list now (a key that may have leaked).

        Every code it signed is refused as ``unknown_key`` at each kiosk's next sync; the
        cards among them must be printed again. The active key is not dropped: rotate first.
        """
        now = int(self.clock())
        with self.unit() as s:
            row = s.get(SigningKey, kid, with_for_update=True)
            if row is None:
                raise UnknownKey(kid)
            if not row.retired:
                raise ValueError(f"{kid} is the active key: make a new one first with kiosk-hub key rotate")
            row.keep_until = min(now, row.keep_until if row.keep_until is not None else now)

    def unlock(self, key_file: Path, environ: Mapping[str, str] = os.environ) -> Path | None:
        """Find the key-encryption key (``hub/kek.py``) and make the signing keys ready.

        A database whose keys are sealed needs the key that sealed them: without it this is a
        :class:`KekError`, and no new signing key is made over them. A database with none
        sealed (new, or from before keys were sealed) gets a new key file on first use, whose
        path is returned (None when the key was found).
        """
        kek = find_kek(key_file, environ)
        made = None
        if kek is None:
            with self.reading() as s:
                sealed = [
                    k
                    for k, stored in s.execute(select(SigningKey.kid, SigningKey.private_key))
                    if is_sealed(stored)
                ]
            if sealed:
                raise KekError(
                    f"the key-encryption key is missing (looked in {looked_in(key_file)}): "
                    f"the signing keys {', '.join(sealed)} cannot be used without it"
                )
            kek, made = make_key_file(key_file), key_file
        self.kek = kek
        self.ensure_key()
        return made

    def ensure_key(self) -> None:
        """Keys stored plain (before they were sealed) are sealed now, the active one is checked
        to open, and there is an active signing key before any kiosk syncs its trust list."""
        kek = self._kek()
        with self.unit() as s:
            active = None
            for row in s.scalars(select(SigningKey).order_by(SigningKey.generation)):
                if not is_sealed(row.private_key):
                    row.private_key = kek.seal(row.kid, row.private_key)
                elif not row.retired:
                    kek.open(row.kid, row.private_key)
                if not row.retired:
                    active = row.kid
        if active is None:
            self.rotate_key()

    def _kek(self) -> Kek:
        if self.kek is None:
            raise KekError("this hub has no key-encryption key: it cannot sign")
        return self.kek

    def _signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        kek = self._kek()
        with self.reading() as s:
            row = s.scalars(select(SigningKey).where(SigningKey.retired.is_(False))).first()
            if row is not None:
                pem = kek.open(row.kid, row.private_key)
                key = serialization.load_pem_private_key(pem.encode(), password=None)
                assert isinstance(key, Ed25519PrivateKey)
                return row.kid, key
        self.rotate_key()
        return self._signing_key()

    def jwks(self) -> dict[str, Any]:
        """The trust list kiosks receive: the active key and each retired one until its ``keep_until``."""
        with self.reading() as s:
            return {"keys": published_keys(s, self.clock())}

    def issue(self, holder: str, kind: CodeKind = CodeKind.APP) -> Issued:
        """Sign a code: ``app`` and ``card`` for a volunteer, ``tech`` for an active technician.

        Cards and technician codes are recorded (``issued_cards``); the 60-second ``app``
        codes are not. Raises :class:`UnknownVolunteer` or :class:`UnknownTechnician`.
        """
        name = self.holder_name(holder, kind)
        now = int(self.clock())  # before the key is read: it was active then (KEEP_S)
        kid, key = self._signing_key()
        expires = now + (APP_CODE_S if kind is CodeKind.APP else MAX_LIFETIME_S[kind])
        jti = uuid.uuid4().hex
        code = issue_code(
            key,
            kid,
            iss=self.issuer,
            sub=holder,
            kind=kind,
            now=now,
            lifetime_s=expires - now,
            jti=jti,
            name=name,
        )
        if kind is not CodeKind.APP:
            card = IssuedCard(jti=jti, holder=holder, kind=kind, issued_at=now, expires_at=expires, kid=kid)
            with self.unit() as s:
                s.add(card)
        return Issued(code=code, card_id=jti, holder=holder, name=name, expires_at=expires)

    def issue_code(self, holder: str, kind: CodeKind = CodeKind.APP) -> str:
        """:meth:`issue`, the code alone."""
        return self.issue(holder, kind).code

    def holder_name(self, holder: str, kind: CodeKind) -> str:
        """The name a code of ``kind`` for ``holder`` carries: a volunteer's, or an active technician's."""
        with self.reading() as s:
            if kind is CodeKind.TECH:
                tech = s.get(Technician, holder)
                if tech is None or not tech.active:
                    raise UnknownTechnician(holder)
                return tech.name
            person = s.get(Volunteer, holder)
            if person is None:
                raise UnknownVolunteer(holder)
            return person.name

    def cards_of(self, holder: str) -> list[dict[str, Any]]:
        """The cards (and technician codes) issued to ``holder``, oldest first, with their ids and
        whether each is revoked or expired. Raises :class:`UnknownVolunteer` for an id that is
        neither a volunteer's nor a technician's."""
        now = self.clock()
        with self.reading() as s:
            if s.get(Volunteer, holder) is None and s.get(Technician, holder) is None:
                raise UnknownVolunteer(holder)
            rows = s.execute(
                select(IssuedCard, RevokedCard.at)
                .outerjoin(RevokedCard, RevokedCard.jti == IssuedCard.jti)
                .where(IssuedCard.holder == holder)
                .order_by(IssuedCard.issued_at, IssuedCard.jti)
            ).all()
        return [
            {
                "card_id": c.jti,
                "kind": c.kind,
                "issued": iso(c.issued_at),
                "expires": iso(c.expires_at),
                "expired": c.expires_at < now,
                "revoked": iso(revoked_at),
            }
            for c, revoked_at in rows
        ]

    def revoke_card(self, jti: str, *, unlisted: bool = False) -> dict[str, Any]:
        """Revoke a card this hub issued: kiosks refuse it after their next sync.

        An id not in ``issued_cards`` is :class:`UnknownCard`, unless ``unlisted`` (a card
        printed before cards were recorded); a technician's code is :class:`NotACard`
        (kiosks check revocations of cards only).
        """
        with self.unit() as s:
            card = s.get(IssuedCard, jti)
            if card is None and not unlisted:
                raise UnknownCard(jti)
            if card is not None and card.kind != CodeKind.CARD:
                raise NotACard(card.jti, card.holder, card.expires_at)
            if s.get(RevokedCard, jti) is None:
                s.add(RevokedCard(jti=jti, at=int(self.clock())))
            holder = None if card is None else card.holder
            return {"revoked": jti, "holder": holder, "listed": card is not None}

    def revoke_cards_of(self, volunteer_id: str) -> list[str]:
        """Revoke every recorded card of a volunteer that has not expired (a lost wallet): their ids."""
        now = int(self.clock())
        with self.unit() as s:
            if s.get(Volunteer, volunteer_id) is None:
                raise UnknownVolunteer(volunteer_id)
            revoked = select(RevokedCard.jti)
            ids = list(
                s.scalars(
                    select(IssuedCard.jti).where(
                        IssuedCard.holder == volunteer_id,
                        IssuedCard.kind == str(CodeKind.CARD),
                        IssuedCard.expires_at >= now,
                        IssuedCard.jti.not_in(revoked),
                    )
                )
            )
            s.add_all(RevokedCard(jti=jti, at=now) for jti in ids)
        return ids

    def revoked(self) -> list[str]:
        with self.reading() as s:
            return list(s.scalars(select(RevokedCard.jti)))


def iso(t: int | None) -> str | None:
    """A Unix time as an ISO 8601 date and time in UTC (None stays None)."""
    return None if t is None else dt.datetime.fromtimestamp(t, dt.UTC).isoformat()


def _published(key: SigningKey, now: float) -> bool:
    return not key.retired or key.keep_until is None or key.keep_until > now


def published_keys(s: Session, now: float) -> list[dict[str, Any]]:
    """The public keys kiosks trust now: the active one, and the retired ones until ``keep_until``."""
    kept = or_(SigningKey.retired.is_(False), SigningKey.keep_until.is_(None), SigningKey.keep_until > now)
    rows = s.scalars(select(SigningKey).where(kept).order_by(SigningKey.generation))
    return [json.loads(k.public_jwk) for k in rows]


def _kiosk_row(k: Kiosk, st: KioskStatus | None, now: float, quarantined: int) -> dict[str, Any]:
    if k.revoked_at is not None:
        token = "revoked"
    elif k.previous_token_until is not None and k.previous_token_until > now:
        token = "rotating"
    else:
        token = "active"
    return {
        "kiosk_id": k.id,
        "name": k.name,
        "last_report": None if st is None else st.received_at,
        "status": None if st is None else json.loads(st.body),
        "token": token,
        "revoked_at": k.revoked_at,
        "previous_token_until": k.previous_token_until if token == "rotating" else None,
        "quarantined": int(quarantined),
    }
