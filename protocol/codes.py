"""Volunteer codes: signed JWTs the hub issues and kiosks check offline (``docs/volunteer-code.md``).

A code is a compact JWS signed with EdDSA over Ed25519: the hub makes them with
:func:`issue_code` (its key's public half goes out as :func:`public_jwk` in every pull
page's trust list) and a kiosk checks them with :class:`CodeVerifier`. The checks run in
the spec's order and stop at the first failure, whose reason is one of the ten stable
names in :class:`CodeReason`. The cryptography is PyJWT's (with ``cryptography``); the
order of checks and the reasons are ours. The verifier is handed a :class:`TrustList`
(the synced JWKS and revoked card ids) and a :class:`ReplayMemory` (the kiosk's store
keeps one that survives a restart); it does no I/O of its own.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class CodeReason(StrEnum):
    """The spec's reasons, in the order they are checked."""

    MALFORMED = "malformed"
    BAD_ALG = "bad_alg"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    REVOKED = "revoked"
    REPLAYED = "replayed"


class CodeKind(StrEnum):
    APP = "app"
    CARD = "card"
    TECH = "tech"
    VOUCHER = "voucher"
    """A 兑换券 for a partner's service: checked once, at the hub (``hub/vouchers.py``); a
    kiosk takes none."""


MAX_CODE_LENGTH = 2048
LEEWAY_S = 30
MAX_LIFETIME_S: Mapping[CodeKind, int] = {
    CodeKind.APP: 120,
    CodeKind.CARD: 157_766_400,  # 5 years of 365.25 days
    CodeKind.TECH: 43_200,
    CodeKind.VOUCHER: 366 * 86400,
}

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_REQUIRED: Mapping[str, type] = {
    "iss": str,
    "sub": str,
    "iat": int,
    "exp": int,
    "jti": str,
    "kind": str,
}


@dataclass(frozen=True, slots=True)
class CodeClaims:
    iss: str
    sub: str
    iat: int
    exp: int
    jti: str
    kind: CodeKind
    name: str | None = None
    nbf: int | None = None
    """Not before (RFC 7519, optional): honoured as ``iat`` is, when a code carries it."""
    item: str | None = None
    """A voucher's item (its service), as the partner reads it."""
    value: int | None = None
    """A voucher's value in 益币."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one check: ``claims`` when accepted, else ``reason``."""

    claims: CodeClaims | None = None
    reason: CodeReason | None = None

    @property
    def ok(self) -> bool:
        return self.claims is not None

    def as_json(self) -> dict[str, Any]:
        if self.claims is not None:
            return {"ok": True, "kind": str(self.claims.kind), "sub": self.claims.sub}
        return {"ok": False, "reason": str(self.reason)}


class TrustList:
    """The synced trust list: verifying keys by ``kid`` and revoked card ids."""

    def __init__(self, jwks: Mapping[str, Any], revoked: Iterable[str] = ()) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
                self._keys[str(jwk["kid"])] = jwt.PyJWK(dict(jwk), algorithm="EdDSA")
        self._revoked = frozenset(revoked)

    def key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def is_revoked(self, jti: str) -> bool:
        return jti in self._revoked

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)


class ReplayMemory(Protocol):
    def accept_once(self, jti: str, exp: int, now: int) -> bool:
        """Remember ``jti`` until ``exp``; ``False`` if it was already remembered."""
        ...


class MemoryReplay:
    """Replay memory for one process (the ``kiosk code verify`` command, tests)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def accept_once(self, jti: str, exp: int, now: int) -> bool:
        if len(self._seen) > 10_000:
            self._seen = {j: e for j, e in self._seen.items() if e + LEEWAY_S >= now}
        if jti in self._seen:
            return False
        self._seen[jti] = exp
        return True


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_object(part: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_b64decode(part))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def card_id(code: str) -> str | None:
    """The ``jti`` a code carries, read without checking it: the issuer's own record of a
    card it just printed, so a lost card can be revoked by that id. Never a trust decision."""
    parts = code.split(".")
    payload = _json_object(parts[1]) if len(parts) == 3 else None
    jti = None if payload is None else payload.get("jti")
    return jti if isinstance(jti, str) else None


def _claims(payload: Mapping[str, Any]) -> CodeClaims | None:
    for name, typ in _REQUIRED.items():
        value = payload.get(name)
        if not isinstance(value, typ) or isinstance(value, bool):
            return None
    display_name = payload.get("name")
    if display_name is not None and not isinstance(display_name, str):
        return None
    nbf = payload.get("nbf")
    if nbf is not None and (not isinstance(nbf, int) or isinstance(nbf, bool)):
        return None
    try:
        kind = CodeKind(payload["kind"])
    except ValueError:
        return None
    item, value = payload.get("item"), payload.get("value")
    priced = isinstance(value, int) and not isinstance(value, bool)
    if kind is CodeKind.VOUCHER and not (isinstance(item, str) and 0 < len(item) <= 100 and priced):
        return None  # a voucher says what it is for and what it is worth
    return CodeClaims(
        iss=payload["iss"],
        sub=payload["sub"],
        iat=payload["iat"],
        exp=payload["exp"],
        jti=payload["jti"],
        kind=kind,
        name=display_name,
        nbf=nbf,
        item=item if kind is CodeKind.VOUCHER else None,
        value=value if kind is CodeKind.VOUCHER else None,
    )


def unchecked_claims(code: str) -> CodeClaims | None:
    """A code's claims read without checking it: only to say when a code the verifier found
    expired — whose signature it checked first — had expired. Never a trust decision."""
    parts = code.split(".")
    payload = _json_object(parts[1]) if len(parts) == 3 else None
    return None if payload is None else _claims(payload)


class CodeVerifier:
    """Checks codes in the spec's order against a trust list and a replay memory."""

    def __init__(
        self,
        trust: TrustList,
        replay: ReplayMemory,
        issuers: Collection[str],
        *,
        leeway_s: int = LEEWAY_S,
        max_lifetime_s: Mapping[CodeKind, int] = MAX_LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trust = trust
        self._replay = replay
        self._issuers = frozenset(issuers)
        self._leeway = leeway_s
        self._max_lifetime = dict(max_lifetime_s)
        self._clock = clock

    def verify(self, code: str, now: int | None = None) -> Verdict:
        t = int(self._clock()) if now is None else now
        reason, claims = self._check(code, t)
        if reason is not None:
            return Verdict(reason=reason)
        assert claims is not None
        return Verdict(claims=claims)

    def _check(self, code: str, now: int) -> tuple[CodeReason | None, CodeClaims | None]:
        # 1. malformed
        if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH:
            return CodeReason.MALFORMED, None
        parts = code.split(".")
        if len(parts) != 3 or not all(_B64URL.fullmatch(p) for p in parts):
            return CodeReason.MALFORMED, None
        header = _json_object(parts[0])
        payload = _json_object(parts[1])
        if header is None or payload is None:
            return CodeReason.MALFORMED, None
        claims = _claims(payload)
        if claims is None:
            return CodeReason.MALFORMED, None
        # 2. bad_alg: refused before any key is touched
        if header.get("alg") != "EdDSA":
            return CodeReason.BAD_ALG, None
        # 3. unknown_key
        kid = header.get("kid")
        key = self.trust.key(kid) if isinstance(kid, str) else None
        if key is None:
            return CodeReason.UNKNOWN_KEY, None
        # 4. bad_signature
        try:
            signature = _b64decode(parts[2])
        except binascii.Error:
            return CodeReason.BAD_SIGNATURE, None
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        if len(signature) != 64 or not key.Algorithm.verify(signing_input, key.key, signature):
            return CodeReason.BAD_SIGNATURE, None
        # 5-8. issuer and time
        if claims.iss not in self._issuers:
            return CodeReason.WRONG_ISSUER, None
        if claims.exp < now - self._leeway:
            return CodeReason.EXPIRED, None
        if claims.iat > now + self._leeway or (claims.nbf is not None and claims.nbf > now + self._leeway):
            return CodeReason.NOT_YET_VALID, None
        if claims.exp - claims.iat > self._max_lifetime[claims.kind]:
            return CodeReason.LIFETIME_TOO_LONG, None
        # 9. revoked cards
        if claims.kind is CodeKind.CARD and self.trust.is_revoked(claims.jti):
            return CodeReason.REVOKED, None
        # 10. replayed phone codes
        if claims.kind is CodeKind.APP and not self._replay.accept_once(claims.jti, claims.exp, now):
            return CodeReason.REPLAYED, None
        return None, claims


# --- issuing (the hub, and demo mode) -------------------------------------------------


def public_jwk(private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """The JWKS entry for ``private_key``'s public half."""
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
    return dict(jwk)


def issue_code(
    private_key: Ed25519PrivateKey,
    kid: str,
    *,
    iss: str,
    sub: str,
    kind: CodeKind,
    now: int,
    lifetime_s: int | None = None,
    jti: str | None = None,
    name: str | None = None,
    nbf: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Sign a code for ``sub``; the lifetime defaults to the kind's maximum. ``extra`` are
    claims of the kind (a voucher's ``item`` and ``value``)."""
    claims: dict[str, Any] = {
        "iss": iss,
        "sub": sub,
        "iat": now,
        "exp": now + (MAX_LIFETIME_S[kind] if lifetime_s is None else lifetime_s),
        "jti": jti or uuid.uuid4().hex,
        "kind": str(kind),
    }
    if name is not None:
        claims["name"] = name
    if nbf is not None:
        claims["nbf"] = nbf
    claims.update(extra or {})
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"})
