"""The hub's use cases: import hours, balances, kiosks and their tokens, codes and keys.

Each method is one unit of work on the hub's database. Money is integer 益币 in an
append-only ledger; a balance is the sum of a volunteer's entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from protocol.codes import CodeKind, issue_code, public_jwk
from protocol.pins import hash_pin
from protocol.sqlite import reader

from . import hours as hours_csv
from .models import Kiosk, KioskStatus, LedgerEntry, RevokedCard, SigningKey, Technician, Volunteer

DEFAULT_ISSUER = "timebank-hub"
RATE = 10  # 益币 per certified hour
CHUNK = 1000  # rows an import writes per statement (and per progress report)
LOOKUP = 10_000  # ids an import looks up per query (SQLite takes 32766 parameters, PostgreSQL 65535)
MAX_RATE = (2**31 - 1) // 24  # 24 h at this rate still fits the ledger's 32-bit amount
TOKEN_CACHE_S = 60.0
ROLES = ("kiosk", "app")
LEDGER_LOCK = 0x7A1B_0001  # pg_advisory_xact_lock key of the ledger's writers


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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Hub:
    def __init__(
        self, engine: Engine, *, issuer: str = DEFAULT_ISSUER, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.issuer = issuer
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(reader(engine), expire_on_commit=False)
        self._tokens: dict[str, tuple[str, str, float]] = {}

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
        with self.reading() as s:
            person = s.get(Volunteer, volunteer_id)
            if person is None:
                raise UnknownVolunteer(volunteer_id)
            return person.name

    # --- kiosks ------------------------------------------------------------------------

    def add_kiosk(self, name: str, role: str = "kiosk") -> dict[str, str]:
        """Register a kiosk (or, with ``role="app"``, the volunteer app's server).

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
        key = "kiosk_id" if role == "kiosk" else "app_id"
        return {key: kiosk_id, "token": token}

    def client_for_token(self, token: str, role: str = "kiosk") -> str | None:
        """The kiosk (or app) a token belongs to; known tokens are remembered for a minute.

        Every sync request names its kiosk: 200 kiosks pushing at once should not each
        cost a database round trip before their events do. A token of another role is
        not accepted.
        """
        digest = token_hash(token)
        now = time.monotonic()
        cached = self._tokens.get(digest)
        if cached is None or cached[2] <= now:
            with self.reading() as s:
                found = s.execute(select(Kiosk.id, Kiosk.role).where(Kiosk.token_hash == digest)).first()
            if found is None:
                return None
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            cached = (str(found[0]), str(found[1]), now + TOKEN_CACHE_S)
            self._tokens[digest] = cached
        return cached[0] if cached[1] == role else None

    def remembered_client(self, token: str, role: str = "kiosk") -> str | None:
        """The client a token belongs to if :meth:`client_for_token` remembers it; no database.

        None when it does not (or the token is of another role): ask ``client_for_token``.
        """
        cached = self._tokens.get(token_hash(token))
        if cached is None or cached[2] <= time.monotonic() or cached[1] != role:
            return None
        return cached[0]

    def kiosks(self) -> list[dict[str, Any]]:
        """Every kiosk with its latest status report (None before its first sync)."""
        with self.reading() as s:
            rows = s.execute(
                select(Kiosk, KioskStatus)
                .outerjoin(KioskStatus, KioskStatus.kiosk_id == Kiosk.id)
                .where(Kiosk.role == "kiosk")
                .order_by(Kiosk.name)
            ).all()
            return [
                {
                    "kiosk_id": k.id,
                    "name": k.name,
                    "last_report": None if st is None else st.received_at,
                    "status": None if st is None else json.loads(st.body),
                }
                for k, st in rows
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

    # --- signing keys and codes --------------------------------------------------------

    def rotate_key(self) -> str:
        """Add a new signing key; the previous one stays live, older ones retire (two live)."""
        key = Ed25519PrivateKey.generate()
        kid = f"hub-{dt.datetime.fromtimestamp(self.clock(), dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        with self.unit() as s:
            live = list(
                s.scalars(
                    select(SigningKey)
                    .where(SigningKey.retired.is_(False))
                    .order_by(SigningKey.generation.desc())
                )
            )
            for old in live[1:]:
                old.retired = True
            generation = (s.scalar(select(func.max(SigningKey.generation))) or 0) + 1
            s.add(
                SigningKey(
                    kid=kid,
                    private_pem=pem,
                    public_jwk=json.dumps(public_jwk(key, kid)),
                    created_at=int(self.clock()),
                    generation=generation,
                    retired=False,
                )
            )
        return kid

    def ensure_key(self) -> None:
        """Have a live signing key before any kiosk syncs its trust list."""
        if not self.jwks()["keys"]:
            self.rotate_key()

    def _signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        with self.reading() as s:
            row = s.scalars(
                select(SigningKey).where(SigningKey.retired.is_(False)).order_by(SigningKey.generation.desc())
            ).first()
            if row is not None:
                key = serialization.load_pem_private_key(row.private_pem.encode(), password=None)
                assert isinstance(key, Ed25519PrivateKey)
                return row.kid, key
        self.rotate_key()
        return self._signing_key()

    def jwks(self) -> dict[str, Any]:
        with self.reading() as s:
            rows = s.scalars(select(SigningKey).where(SigningKey.retired.is_(False)))
            return {"keys": [json.loads(r.public_jwk) for r in rows]}

    def issue_code(self, volunteer_id: str, kind: CodeKind = CodeKind.APP) -> str:
        with self.reading() as s:
            person = s.get(Volunteer, volunteer_id)
            if person is None:
                raise UnknownVolunteer(volunteer_id)
            name = person.name
        kid, key = self._signing_key()
        lifetime = 60 if kind is CodeKind.APP else None
        return issue_code(
            key,
            kid,
            iss=self.issuer,
            sub=volunteer_id,
            kind=kind,
            now=int(self.clock()),
            lifetime_s=lifetime,
            name=name,
        )

    def revoke_card(self, jti: str) -> None:
        with self.unit() as s:
            if s.get(RevokedCard, jti) is None:
                s.add(RevokedCard(jti=jti, at=int(self.clock())))

    def revoked(self) -> list[str]:
        with self.reading() as s:
            return list(s.scalars(select(RevokedCard.jti)))
