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
from sqlalchemy.orm import Session

from .card_pins import CardPinRepository
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
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self._conn = self._engine.connect()
        self._tx = self._conn.begin()  # BEGIN IMMEDIATE, or BEGIN for a reader (see ``db``)
        # the transaction's own SQLite connection, for the repositories that run on every
        # scan and every vend as plain SQL
        db = self._conn.connection.driver_connection
        assert isinstance(db, sqlite3.Connection)
        self.ledger = LedgerRepository(db)
        self.catalogue = CatalogueRepository(db)
        self.vends = VendRepository(db)
        self.outbox = OutboxRepository(db)
        self.settings = SettingsRepository(db)
        self.card_pins = CardPinRepository(db)
        return self

    @property
    def session(self) -> Session:
        """An ORM session in this unit's transaction, made when a repository first needs one."""
        if self._session is None:
            self._session = Session(bind=self._conn, expire_on_commit=False)
        return self._session

    @property
    def trust(self) -> TrustRepository:
        return TrustRepository(self.session)

    @property
    def technicians(self) -> TechnicianRepository:
        return TechnicianRepository(self.session)

    @property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session)

    @property
    def views(self) -> Views:
        return Views(self.session)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._session is not None:
                self._session.close()  # loaded rows stay readable
            if self._tx.is_active:
                self._tx.rollback()  # what was not committed
        finally:
            self._conn.close()

    def commit(self) -> None:
        self.flush()
        self._tx.commit()

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()


class SqlUnitsOfWork:
    """Where the units of work come from: the kiosk's engine, for writing and for reading."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = reader(engine)

    def writing(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def reading(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._reader)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file now, without waiting for anyone.

        SQLite otherwise checkpoints inside whichever commit fills the log past 1,000
        pages: one redemption in thirty-odd would wait ~10 ms for it. The kiosk calls
        this where a person is reading the screen anyway (after a scan) and after a sync.
        """
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
        finally:
            raw.close()
