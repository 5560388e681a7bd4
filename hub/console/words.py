"""Every sentence the console shows, through the hub's gettext catalogue.

As on the kiosk (``kiosk/core/messages.py``), Chinese is the source language: a message id
is the Chinese sentence, written where it is used (``say("总览", lang)`` in Python,
``{{ _("总览") }}`` in a template), and ``hub/locale/en/LC_MESSAGES/hub.po`` gives its
English (``scripts/catalogue.py`` extracts, checks and compiles both catalogues).
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

SOURCE = "zh"
LANGS = ("zh", "en")
DOMAIN = "hub"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the catalogue; translate it where it is shown."""
    return msgid


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    if lang == SOURCE:
        return gettext.NullTranslations()
    if lang not in LANGS:
        raise ValueError(f"no catalogue for language {lang!r}")
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=False)


def say(msgid: str, lang: str, /, **params: Any) -> str:
    text = catalogue(lang).gettext(msgid)
    return text.format(**params) if params else text


ROLE_NAMES = {"admin": N_("管理员"), "staff": N_("工作人员"), "viewer": N_("只读")}
"""What each console role is called on its pages."""
