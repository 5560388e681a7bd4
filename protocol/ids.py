"""Ids as people type them: NFKC-normalised, trimmed, and checked against the protocol's pattern.

A volunteer id (or a technician's, or a card's) typed at a command line or read from the
platform's CSV is NFKC-normalised first, so full-width ``Ｖ００１`` is ``V001`` and a
full-width space is a space, then stripped of the whitespace around it. What remains must
be a protocol id (:data:`protocol.sync.ID_PATTERN`) with no space inside it and no more
characters than its column holds; otherwise :func:`clean_id` raises :class:`BadId`, whose
message names the field and the first character that does not belong. The hub's hours
import and every command of ``kiosk-hub`` use these functions; nothing else trims ids.
"""

from __future__ import annotations

import re
import unicodedata

from .sync import ID_PATTERN

MAX_ID_LENGTH = 64
"""A volunteer's or a technician's id, at most (the hub's and the kiosk's columns)."""


class BadId(ValueError):
    """An id that is empty, too long, or holds a space or a control character."""


def normalise(text: str) -> str:
    """NFKC, then the whitespace around it stripped (a full-width space too)."""
    return unicodedata.normalize("NFKC", text).strip()


def id_problem(text: str, field: str, max_length: int = MAX_ID_LENGTH) -> str | None:
    """Why the normalised ``text`` is no id (``field: …``), or None when it is one."""
    if not text:
        return f"{field}: is empty"
    if len(text) > max_length:
        return f"{field}: {len(text)} characters, at most {max_length}"
    for ch in text:
        if ch.isspace() or not ch.isprintable():
            shown = f"{field}: {text[:20]!r} contains U+{ord(ch):04X}"
            return f"{shown}: an id has no spaces or control characters"
    if not re.fullmatch(ID_PATTERN, text):  # the pattern the sync contract checks ids with
        return f"{field}: {text[:20]!r} does not match {ID_PATTERN}"
    return None


def clean_id(text: str, field: str = "volunteer id", max_length: int = MAX_ID_LENGTH) -> str:
    """``text`` normalised (:func:`normalise`), or :class:`BadId` saying why it is no id."""
    value = normalise(text)
    problem = id_problem(value, field, max_length)
    if problem is not None:
        raise BadId(problem)
    return value


def mask_name(name: str) -> str:
    """A name as screens and boards show it to others: 赵小明 → 赵**, the first character and
    a star for each other (at most three)."""
    name = name.strip()
    if not name:
        return "**"
    return name[0] + "*" * max(1, min(len(name) - 1, 3))
