"""The unit of work on the kiosk's SQLite file: one session, one transaction, its repositories.

``with store.writing() as uow: ...; uow.commit()`` runs one ``BEGIN IMMEDIATE``
transaction; leaving the block without ``commit()`` (or by an exception) rolls it back,
so a use case saves all of its outcome or none of it. ``store.reading()`` gives the same
repositories over a deferred transaction (a WAL snapshot that waits for no writer), for
use cases that only read. The repositories a scan and a vend use run plain SQL on the
transaction's own connection (measured: SQLAlchemy's per-statement work was most of a
redemption's time); the others use the ORM session of the same transaction. The service
layer sees only the protocols of
``kiosk.services.ports``; tests hand it an in-memory unit of work instead.
"""

from __future__ import annotations

import sqlite3
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .catalogue import CatalogueRepository
from .db import reader
from .ledger import LedgerRepository
from .outbox import OutboxRepository
from .settings import SettingsRepository
from .staff import AuditRepository, TechnicianRepository
from .trust import TrustRepository
from .vends import VendRepository
from .views import Views


class SqlUnitOfWork:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> SqlUnitOfWork:
        self.session = s = self._sessions()
        s.begin()
        # the transaction's own SQLite connection (BEGIN runs here), for the repositories
        # that run on every scan and every vend as plain SQL
        db = s.connection().connection.driver_connection
        assert isinstance(db, sqlite3.Connection)
        self.ledger = LedgerRepository(db)
        self.catalogue = CatalogueRepository(db)
        self.vends = VendRepository(db)
        self.outbox = OutboxRepository(db, s)
        self.settings = SettingsRepository(db)
        self.trust = TrustRepository(s)
        self.technicians = TechnicianRepository(s)
        self.audit = AuditRepository(s)
        self.views = Views(s)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.close()  # rolls back what was not committed; loaded rows stay readable

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()


class SqlUnitsOfWork:
    """Where the units of work come from: the kiosk's engine, for writing and for reading."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writers = sessionmaker(engine, expire_on_commit=False, autobegin=False)
        self._readers = sessionmaker(reader(engine), expire_on_commit=False, autobegin=False)

    def writing(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._writers)

    def reading(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._readers)
