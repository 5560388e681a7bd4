"""Every sentence the console shows, through the hub's gettext catalogue.

As on the kiosk (``kiosk/core/messages.py``), Chinese is the source language: a message id
is the Chinese sentence, written where it is used (``say("总览", lang)`` in Python,
``{{ _("总览") }}`` in a template), and ``hub/locale/en/LC_MESSAGES/hub.po`` gives its
English (``scripts/catalogue.py`` extracts, checks and compiles both catalogues).
"""

from __future__ import annotations

import gettext
import re
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


FIELD_NAMES = {
    "record_id": N_("记录编号"),
    "volunteer_id": N_("志愿者编号"),
    "name": N_("姓名"),
    "hours": N_("服务时长"),
    "activity": N_("活动名称"),
    "certified_on": N_("认定日期"),
}
"""The hours file's columns, as its Chinese header names them."""

_F = r"(?P<field>record_id|volunteer_id|name|hours|activity|certified_on)"
REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), msgid)
    for pattern, msgid in (
        (_F + r": is empty$", N_("{field}：是空的")),
        (_F + r": (?P<n>\d+) characters, at most (?P<most>\d+)$", N_("{field}：有 {n} 个字，最多 {most} 个")),
        (
            _F + r": .* contains U\+(?P<code>[0-9A-F]{4,6}): an id has no spaces or control characters$",
            N_("{field}：编号里不能有空格或控制字符（U+{code}）"),
        ),
        (
            _F + r": contains the control character U\+(?P<code>[0-9A-F]{4,6})$",
            N_("{field}：含有控制字符 U+{code}"),
        ),
        (_F + r": (?P<value>.*) does not match .*$", N_("{field}：{value} 不是有效的编号")),
        (
            r"^hours: (?P<value>.*) is not a number of hours \(write 2 or 2\.5\)$",
            N_("服务时长：{value} 不是小时数（应写成 2 或 2.5）"),
        ),
        (
            r"^hours: (?P<value>.*) must be more than 0 and at most 24$",
            N_("服务时长：{value} 应大于 0、不超过 24"),
        ),
        (r"^hours: (?P<value>.*) has more than one decimal$", N_("服务时长：{value} 最多一位小数")),
        (
            r"^certified_on: (?P<value>.*) is not a date \(write 2026-11-01\)$",
            N_("认定日期：{value} 不是日期（应写成 2026-11-01）"),
        ),
        (r"^certified_on: (?P<value>.*) is in the future$", N_("认定日期：{value} 还没到")),
        (
            r"^expected (?P<width>\d+) columns, found (?P<found>\d+)$",
            N_("应有 {width} 列，这一行有 {found} 列"),
        ),
        (
            r"^record_id: (?P<value>.*?) conflicts: (?P<rest>.*)$",
            N_("记录编号 {value} 与已有记录冲突：{rest}"),
        ),
    )
)
"""The hours importer's reasons (``hub/hours.py``, ``protocol/ids.py``), as the console says
them: the command line keeps the importer's English; a page says each in its language."""


def reason(text: str, lang: str) -> str:
    """A refused row's reason in ``lang`` (one the table does not know is shown as it is; the
    English is the importer's own, as the command line prints it)."""
    if lang != SOURCE:
        return text
    for pattern, msgid in REASONS:
        found = pattern.match(text)
        if found:
            params = found.groupdict()
            column = params.get("field")
            if column is not None:
                params["field"] = say(FIELD_NAMES[column], lang)
            return say(msgid, lang, **params)
    return text
