"""The hub's settings: one schema, each setting with its environment variable.

``kiosk-hub`` takes every setting as a command-line option whose default is its
environment variable; ``kiosk-hub serve --workers N`` hands the settings it resolved to
its worker processes through the same variables (:meth:`Settings.environ`), and each
worker reads them back with :meth:`Settings.from_environ`. A malformed value is a
:class:`SettingsError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .db import default_url
from .kek import KEY_FILE_ENV, default_key_file

MAX_BODY_BYTES = 4 * 1024 * 1024
"""A request body's largest size. A kiosk's largest push (5,000 redemptions with every
field at its longest, names of 4-byte characters, as the kiosk encodes it) is 3.6 MiB:
``tests/hub/test_guard.py`` measures it."""


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    """What one request, and one kiosk's pushes, may cost the hub (``docs/sync.md``)."""

    max_body_bytes: int = MAX_BODY_BYTES
    push_per_minute: int = 120
    """Pushes a kiosk may make each minute, on average (its token bucket's refill)."""
    push_burst: int = 120
    """Pushes a kiosk may make back to back (the bucket's size): a backlog of 60,000
    events after an outage goes up in batches of 500 without waiting."""


ENV = {
    "database_url": "HUB_DATABASE_URL",
    "key_file": KEY_FILE_ENV,
    "max_body_bytes": "HUB_MAX_BODY_BYTES",
    "push_per_minute": "HUB_PUSH_PER_MINUTE",
    "push_burst": "HUB_PUSH_BURST",
}


@dataclass(frozen=True)
class Settings:
    database_url: str
    key_file: Path
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment gives, the defaults for the rest."""
        base = Limits()
        return cls(
            database_url=environ.get(ENV["database_url"]) or default_url(),
            key_file=Path(environ.get(ENV["key_file"]) or default_key_file()),
            limits=Limits(
                max_body_bytes=_count(environ, "max_body_bytes", base.max_body_bytes),
                push_per_minute=_count(environ, "push_per_minute", base.push_per_minute),
                push_burst=_count(environ, "push_burst", base.push_burst),
            ),
        )

    def environ(self) -> dict[str, str]:
        """These settings as the environment variables :meth:`from_environ` reads."""
        return {
            ENV["database_url"]: self.database_url,
            ENV["key_file"]: str(self.key_file),
            ENV["max_body_bytes"]: str(self.limits.max_body_bytes),
            ENV["push_per_minute"]: str(self.limits.push_per_minute),
            ENV["push_burst"]: str(self.limits.push_burst),
        }


def positive(text: str) -> int:
    """A whole number above 0, or ValueError (argparse's ``type`` and the environment alike)."""
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(ENV[name])
    if not text:
        return default
    try:
        return positive(text)
    except ValueError:
        raise SettingsError(f"{ENV[name]}={text!r} is not a whole number above 0") from None
