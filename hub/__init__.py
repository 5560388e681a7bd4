"""The time bank's hub: the city ledger the kiosks sync with.

It holds volunteers and their 益币 in an append-only ledger (credits for certified
hours, redemptions, reversals, settlements), the kiosks and their credentials, the
signing keys of volunteer codes and the revoked cards. One code base serves an
embedded SQLite file and PostgreSQL (``postgresql+psycopg://``).
"""
