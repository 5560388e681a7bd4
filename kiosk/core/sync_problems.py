"""Why a sync with the hub failed: a kind, a short technical detail, and the sentence for it.

``kiosk/sync.py`` turns whatever the network or the hub raised into a
:class:`SyncProblem` (``kiosk.sync.describe``); this module says it in words, from the
catalogue. The same words reach the technician screen (in the screen's language), the
``kiosk sync --once`` command and the log (both languages, Chinese first:
``中心无法连接 / hub unreachable: connection refused (127.0.0.1:8700)``). The detail is the
network's or the hub's own few words (an errno's text, an HTTP status, a certificate's
complaint), never a token: the request's headers are not part of any exception read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from .messages import N_, SOURCE, Lang, say


class SyncFailure(StrEnum):
    UNREACHABLE = "unreachable"
    """No connection: refused, reset, no route; the hub is down or the network is."""
    NAME = "name"
    """The hub's name does not resolve (DNS)."""
    TIMEOUT = "timeout"
    TLS = "tls"
    """The TLS handshake failed: a certificate expired, self-signed, for another name."""
    TOKEN = "token"
    """401/403: the hub does not know this kiosk's token (revoked, rotated, mistyped)."""
    BUSY = "busy"
    """429: the hub asked this kiosk to wait (``Retry-After``)."""
    HUB_FAULT = "hub_fault"
    """5xx: the hub (or a proxy in front of it) failed."""
    REFUSED = "refused"
    """Another 4xx: the hub refused the request itself."""
    MALFORMED = "malformed"
    """The hub's answer does not follow the contract (``protocol.sync``)."""
    OWN_EVENT = "own_event"
    """An event in this kiosk's outbox breaks the contract: it never left the kiosk."""


SENTENCES: dict[SyncFailure, str] = {
    SyncFailure.UNREACHABLE: N_("中心无法连接"),
    SyncFailure.NAME: N_("中心的域名无法解析"),
    SyncFailure.TIMEOUT: N_("中心没有及时答复"),
    SyncFailure.TLS: N_("与中心的加密连接失败"),
    SyncFailure.TOKEN: N_("中心拒绝了本机的令牌"),
    SyncFailure.BUSY: N_("中心请本机稍后再同步"),
    SyncFailure.HUB_FAULT: N_("中心出错"),
    SyncFailure.REFUSED: N_("中心拒绝了请求"),
    SyncFailure.MALFORMED: N_("中心的答复格式不对"),
    SyncFailure.OWN_EVENT: N_("本机有一条记录格式不对，未上传"),
}
"""The sentence of each kind of failure (the catalogue's English says it second)."""


@dataclass(frozen=True, slots=True)
class SyncProblem:
    kind: SyncFailure
    detail: str = ""

    def sentence(self, lang: Lang | None = None) -> str:
        """In ``lang``; with none, Chinese then English (the command line and the log)."""
        msgid = SENTENCES[self.kind]
        if lang is None:
            head, colon = f"{say(msgid, SOURCE)} / {say(msgid, 'en')}", ": "
        else:
            head, colon = say(msgid, lang), "：" if lang == SOURCE else ": "
        return f"{head}{colon}{self.detail}" if self.detail else head

    def __str__(self) -> str:
        return self.sentence()

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind.value, "detail": self.detail}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> SyncProblem | None:
        """A stored problem; ``None`` for none, or one a newer or older kiosk wrote otherwise."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(SyncFailure(data["kind"]), str(data.get("detail", "")))
        except (ValueError, KeyError, TypeError):
            return None
