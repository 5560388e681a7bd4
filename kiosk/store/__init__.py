"""The kiosk's local store: a SQLite file behind SQLAlchemy 2, changed only by migrations.

``models`` maps the tables, ``db`` opens the engine (WAL, ``synchronous=FULL``, foreign
keys, ``BEGIN IMMEDIATE`` for every transaction) and runs Alembic, and ``repository``
is the only place that writes SQL: each of its methods is one unit of work that commits
or rolls back whole, and returns frozen core dataclasses, never ORM objects.
"""
