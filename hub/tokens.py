"""The tokens a hub process remembers, and how a revocation reaches every process in a second.

Every sync request names its kiosk by its token: 200 kiosks pushing at once should not
each cost a database round trip before their events do, so a token found is remembered
for :data:`TOKEN_CACHE_S`. Revoking or rotating a token raises the database's token
generation in the same transaction. Each process reads the generation at most once every
:data:`REVOCATION_CHECK_S` (one small read, on a worker thread) and forgets everything it
remembered when it went up; the process that made the change forgets at once. So a
revoked token is refused within a second by every hub process, and what is remembered of
a rotated token's predecessor lasts no longer than its grace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_CACHE_S = 60.0
REVOCATION_CHECK_S = 1.0
MAX_REMEMBERED = 10_000


@dataclass(frozen=True)
class Remembered:
    client_id: str
    role: str
    generation: int
    """The token generation read with the client's row: stale once the generation is higher."""
    until: float
    """Monotonic time this is remembered until."""
    valid_until: float | None
    """A rotated token's end of grace (wall clock); None for a client's current token."""


class TokenCache:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.generation = -1
        self._checked = -float("inf")
        self._entries: dict[str, Remembered] = {}
        self._lock = threading.Lock()

    def due(self) -> bool:
        """The generation should be read again before a remembered token is trusted."""
        return self.monotonic() - self._checked >= REVOCATION_CHECK_S

    def saw_generation(self, generation: int) -> None:
        """The generation as just read (or just raised here): forget everything if it went up."""
        with self._lock:
            if generation > self.generation:
                self.generation = generation
                self._entries.clear()
            self._checked = self.monotonic()

    def get(self, digest: str, now: float) -> Remembered | None:
        """What is remembered of a token's hash, if still to be trusted (``now``: wall clock)."""
        if self.due():
            return None
        entry = self._entries.get(digest)
        if (
            entry is None
            or entry.generation != self.generation
            or entry.until <= self.monotonic()
            or (entry.valid_until is not None and entry.valid_until <= now)
        ):
            return None
        return entry

    def put(self, digest: str, client_id: str, role: str, generation: int, valid_until: float | None) -> None:
        entry = Remembered(client_id, role, generation, self.monotonic() + TOKEN_CACHE_S, valid_until)
        with self._lock:
            if len(self._entries) >= MAX_REMEMBERED:
                self._entries.clear()
            self._entries[digest] = entry
