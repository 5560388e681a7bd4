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
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from protocol.codes import CodeKind, issue_code, public_jwk
from protocol.pins import hash_pin
from protocol.sqlite import reader

from . import hours as hours_csv
from .ingest import Limits
from .models import (
    Kiosk,
    KioskStatus,
    LedgerEntry,
    Quarantined,
    RevokedCard,
    SigningKey,
    Technician,
    Volunteer,
)

DEFAULT_ISSUER = "timebank-hub"
RATE = 10  # 益币 per certified hour
CHUNK = 1000
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


class UnknownVolunteer(LookupError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Hub:
    def __init__(
        self,
        engine: Engine,
        *,
        issuer: str = DEFAULT_ISSUER,
        clock: Callable[[], float] = time.time,
        limits: Limits | None = None,
    ) -> None:
        self.engine = engine
        self.issuer = issuer
        self.clock = clock
        self.limits = limits or Limits()
        """What one pushed event may do (``hub.ingest``; ``HUB_MAX_EVENT_AMOUNT``)."""
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

    def import_hours(self, data: bytes, rate: int = RATE) -> ImportReport:
        """Credit ``hours × rate`` for each new record; a record seen before changes nothing."""
        rows, errors = hours_csv.parse(data)
        imported = duplicates = 0
        now = int(self.clock())
        seen: set[str] = set()
        for start in range(0, len(rows), CHUNK):
            chunk = []
            for row in rows[start : start + CHUNK]:
                if row.record_id in seen:
                    duplicates += 1
                else:
                    seen.add(row.record_id)
                    chunk.append(row)
            with self.unit() as s:
                self.lock_ledger(s)
                ids = [r.record_id for r in chunk]
                known = set(s.scalars(select(LedgerEntry.record_id).where(LedgerEntry.record_id.in_(ids))))
                fresh = [r for r in chunk if r.record_id not in known]
                duplicates += len(chunk) - len(fresh)
                people = {r.volunteer_id: r.name for r in fresh}
                existing = set(s.scalars(select(Volunteer.id).where(Volunteer.id.in_(list(people)))))
                for vid, name in people.items():
                    if vid not in existing:
                        s.add(Volunteer(id=vid, name=name, flagged=False))
                s.flush()
                for r in fresh:
                    s.add(
                        LedgerEntry(
                            id=str(uuid.uuid4()),
                            volunteer_id=r.volunteer_id,
                            kind="credit",
                            amount=r.coins(rate),
                            record_id=r.record_id,
                            note=f"{r.hours} h · {r.activity} · {r.certified_on}"[:200],
                            at=now,
                        )
                    )
                imported += len(fresh)
        return ImportReport(imported, duplicates, [{"line": e.line, "reason": e.reason} for e in errors])

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
        """Every kiosk with its latest status report (None before its first sync) and how
        many of its events wait in the quarantine."""
        with self.reading() as s:
            rows = s.execute(
                select(Kiosk, KioskStatus)
                .outerjoin(KioskStatus, KioskStatus.kiosk_id == Kiosk.id)
                .where(Kiosk.role == "kiosk")
                .order_by(Kiosk.name)
            ).all()
            counted = select(Quarantined.kiosk_id, func.count()).group_by(Quarantined.kiosk_id)
            held = {str(kiosk): int(n) for kiosk, n in s.execute(counted)}
            return [
                {
                    "kiosk_id": k.id,
                    "name": k.name,
                    "last_report": None if st is None else st.received_at,
                    "status": None if st is None else json.loads(st.body),
                    "quarantined": int(held.get(k.id, 0)),
                }
                for k, st in rows
            ]

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
