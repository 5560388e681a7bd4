"""Every sentence a person reads, through one gettext catalogue.

Chinese is the source language: a message id *is* the Chinese sentence, written where
it is used (``say("请扫描志愿者码", lang)``), and ``kiosk/locale/en/LC_MESSAGES/kiosk.po``
gives its English. ``say`` always takes the language of the screen that shows the
sentence; there is no global current language, since a volunteer switches it for one
visit. Parameters use ``str.format`` names (``{n}``), filled after translation.

Where one Chinese sentence needs two English ones, ``say_in`` adds a gettext context
(``msgctxt``). ``N_`` (and ``N_in`` with a context) marks a sentence for the catalogue
where it is written into a table and translated later (the notices below). Extraction
reads string literals only: write the sentence (and the context) as a literal in the
call, never build it.

The core and the services speak in stable keys, not sentences: a refusal is a
:class:`~kiosk.core.rules.Refusal`, a code's failure a ``CodeReason``, and a
:class:`~kiosk.core.session.Notice` carries that key. :data:`NOTICES` turns each key into
its sentence; a refusal is one short friendly sentence that tells the person what to do
next, never a reason code or a stack trace. See README, "Adding a sentence".
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Lang = str  # "zh" or "en"

SOURCE = "zh"
LANGS: tuple[Lang, ...] = ("zh", "en")
DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the catalogue without translating it (translate when shown)."""
    return msgid


def N_in(context: str, msgid: str) -> str:  # a literal context, as extraction needs
    """Mark ``msgid`` in ``context`` for the catalogue (translate with :func:`say_in`)."""
    return msgid


@cache
def catalogue(lang: Lang) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (Chinese, the source, needs none)."""
    if lang == SOURCE:
        return gettext.NullTranslations()
    if lang not in LANGS:
        raise ValueError(f"no catalogue for language {lang!r} (have {', '.join(LANGS)})")
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def sentences() -> list[str]:
    """Every sentence of the catalogue, in Chinese (the compiled English catalogue's ids)."""
    compiled: dict[object, str] = getattr(catalogue("en"), "_catalog", {})
    return sorted(k.rpartition("\x04")[2] for k in compiled if isinstance(k, str) and k)


def say(msgid: str, lang: Lang, /, **params: Any) -> str:
    """``msgid`` (a Chinese sentence) in ``lang``, with ``params`` filled in."""
    text = catalogue(lang).gettext(msgid)
    return text.format(**params) if params else text


def say_in(context: str, msgid: str, lang: Lang, /, **params: Any) -> str:
    """As :func:`say`, for a Chinese sentence that reads differently in English by ``context``."""
    text = catalogue(lang).pgettext(context, msgid)
    return text.format(**params) if params else text


NOTICES: dict[str, str] = {
    # --- code reasons (docs/volunteer-code.md) ---
    "malformed": N_("无法识别这个二维码，请出示时间银行的志愿者码"),
    "bad_alg": N_("这个二维码无效，请出示时间银行的志愿者码"),
    "unknown_key": N_("暂时无法验证这个二维码，请联系工作人员"),
    "bad_signature": N_("这个二维码无效，请在手机上重新打开志愿者码"),
    "wrong_issuer": N_("这个二维码不属于本时间银行"),
    "expired": N_("二维码已过期，请在手机上刷新后再扫"),
    "not_yet_valid": N_("二维码时间不对，请检查手机时间后刷新再扫"),
    "lifetime_too_long": N_("这个二维码无效，请刷新后再扫"),
    "revoked": N_("这张卡已挂失停用，请联系工作人员补办"),
    "replayed": N_("这个二维码已经用过了，请刷新后再扫"),
    # --- redemption refusals (core.rules.Refusal) ---
    "insufficient_balance": N_("益币不足，换一件试试吧"),
    "visit_cap": N_("每次最多兑换 {n} 件，请先确认已选的物品"),
    "daily_item_cap": N_("这件物品今天已兑换 {n} 次，明天再来吧"),
    "sold_out": N_("这件物品已经兑完了，换一件吧"),
    "machine_fault": N_("机器暂时出了故障，未扣益币，请联系工作人员"),
    "unknown_volunteer": N_("还没有找到您的志愿者记录，请联系工作人员"),
    "not_a_volunteer": N_("这是工作人员码，请出示志愿者码"),
    "offline_cap": N_("网络暂时中断，今天离线兑换已达上限，联网后再来吧"),
    # --- the kiosk's own ---
    "trust_stale": N_("机器太久没有联网，暂时不能验证二维码，请联系工作人员"),
    "busy": N_("请稍候，正在处理上一位的兑换"),
    "tech_pin_wrong": N_("PIN 不正确，还可以再试 {n} 次"),
    "tech_pin_locked": N_("PIN 已锁定，请 {n} 分钟后再试"),
    "tech_unknown": N_("这个技术员码未登记，请联系管理员"),
    "voucher_here": N_("这是兑换券，请到合作单位使用"),
    "card_pin_wrong": N_("密码不对，请再试一次（还可以试 {n} 次）"),
    "card_pin_locked": N_("密码输错太多次，请 {n} 分钟后再试，或联系工作人员"),
    "card_pin_locked_hours": N_("密码输错太多次，请 {n} 小时后再试，或联系工作人员"),
}
"""The sentence of each notice key the core and the services raise."""

UNKNOWN_NOTICE = N_("出了点问题，请联系工作人员")
"""Shown for a notice key with no sentence (a bug): never the raw key."""


def notice_text(key: str, lang: Lang, params: Mapping[str, Any] | None = None) -> str:
    """The sentence of a notice (see :data:`NOTICES`) in ``lang``."""
    msgid = NOTICES.get(key)
    if msgid is None:
        log.error("no sentence for the notice %r", key)
        return say(UNKNOWN_NOTICE, lang)
    return say(msgid, lang, **(params or {}))
