"""The kiosk's local store: a SQLite file behind SQLAlchemy 2, changed only by migrations.

``models`` maps the tables, ``db`` opens the engine (WAL, ``synchronous=FULL``, foreign
keys, ``BEGIN IMMEDIATE`` for every writing transaction) and runs Alembic. ``uow`` gives
one unit of work per use case, holding the repositories of its transaction (``ledger``,
``catalogue``, ``vends``, ``outbox``, ``trust``, ``staff``, ``settings``) and the read side
(``views``). The store loads facts and saves outcomes; it decides nothing (``kiosk.core``
does) and returns frozen core dataclasses, never ORM objects.
"""
