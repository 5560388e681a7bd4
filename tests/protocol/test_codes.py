"""Volunteer codes: the spec's 25 vectors in order, and the checks around them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.codes import (
    CodeKind,
    CodeReason,
    CodeVerifier,
    MemoryReplay,
    TrustList,
    card_id,
    issue_code,
    public_jwk,
)

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "volunteer-code-vectors.json").read_text())


def expected(case: dict[str, Any]) -> dict[str, Any]:
    if case["ok"]:
        return {"ok": True, "kind": case["kind"], "sub": case["sub"]}
    return {"ok": False, "reason": case["error"]}


def test_the_spec_vectors_pass_in_order_on_one_verifier() -> None:
    verifier = CodeVerifier(
        TrustList(VECTORS["jwks"], VECTORS["revoked_jti"]), MemoryReplay(), [VECTORS["issuer"]]
    )
    got = [verifier.verify(case["code"], now=VECTORS["now"]).as_json() for case in VECTORS["cases"]]
    assert got == [expected(case) for case in VECTORS["cases"]]
    assert len(got) == 25


def test_every_reason_is_exercised_by_the_vectors() -> None:
    reasons = {case["error"] for case in VECTORS["cases"] if not case["ok"]}
    assert reasons == {r.value for r in CodeReason}


def test_reason_order_matches_the_spec() -> None:
    assert [r.value for r in CodeReason] == [
        "malformed",
        "bad_alg",
        "unknown_key",
        "bad_signature",
        "wrong_issuer",
        "expired",
        "not_yet_valid",
        "lifetime_too_long",
        "revoked",
        "replayed",
    ]


@pytest.fixture
def signer() -> tuple[Ed25519PrivateKey, CodeVerifier]:
    key = Ed25519PrivateKey.generate()
    trust = TrustList({"keys": [public_jwk(key, "k1")]}, ["lost-card"])
    return key, CodeVerifier(trust, MemoryReplay(), ["hub"])


def test_an_issued_code_verifies_and_a_phone_code_is_good_for_one_scan(signer: Any) -> None:
    key, verifier = signer
    code = issue_code(key, "k1", iss="hub", sub="V1", kind=CodeKind.APP, now=1000, lifetime_s=60)
    first = verifier.verify(code, now=1010)
    assert first.ok and first.claims is not None and first.claims.sub == "V1"
    assert verifier.verify(code, now=1011).reason is CodeReason.REPLAYED


def test_cards_and_technician_codes_are_not_single_use(signer: Any) -> None:
    key, verifier = signer
    for kind in (CodeKind.CARD, CodeKind.TECH):
        code = issue_code(key, "k1", iss="hub", sub="X", kind=kind, now=1000, lifetime_s=3600)
        assert verifier.verify(code, now=1010).ok
        assert verifier.verify(code, now=1020).ok


def test_a_revoked_card_is_refused_but_an_app_code_with_that_jti_is_not(signer: Any) -> None:
    key, verifier = signer
    card = issue_code(key, "k1", iss="hub", sub="V", kind=CodeKind.CARD, now=1000, jti="lost-card")
    app = issue_code(
        key, "k1", iss="hub", sub="V", kind=CodeKind.APP, now=1000, lifetime_s=60, jti="lost-card"
    )
    assert verifier.verify(card, now=1010).reason is CodeReason.REVOKED
    assert verifier.verify(app, now=1010).ok


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "hub", "sub": "V", "iat": True, "exp": 1060, "jti": "j", "kind": "app"},
        {"iss": "hub", "sub": 7, "iat": 1000, "exp": 1060, "jti": "j", "kind": "app"},
        {"iss": "hub", "sub": "V", "iat": 1000, "exp": "1060", "jti": "j", "kind": "app"},
        {"iss": "hub", "sub": "V", "iat": 1000, "exp": 1060, "jti": "j", "kind": "app", "name": 3},
        {"iss": "hub", "sub": "V", "iat": 1000, "exp": 1060, "jti": "j", "kind": "app", "nbf": "1000"},
    ],
)
def test_claims_of_the_wrong_type_are_malformed(signer: Any, claims: dict[str, Any]) -> None:
    import jwt

    key, verifier = signer
    code = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1"})
    assert verifier.verify(code, now=1010).reason is CodeReason.MALFORMED


def test_a_code_not_valid_before_a_later_time_is_refused_until_then(signer: Any) -> None:
    key, verifier = signer
    card = issue_code(key, "k1", iss="hub", sub="V", kind=CodeKind.CARD, now=1000, nbf=5000)
    assert verifier.verify(card, now=1010).reason is CodeReason.NOT_YET_VALID
    assert verifier.verify(card, now=5000 - 30).ok  # the leeway for clock drift, as for iat
    app = issue_code(key, "k1", iss="hub", sub="V", kind=CodeKind.APP, now=1000, lifetime_s=60, nbf=1000)
    assert verifier.verify(app, now=1010).ok


def test_non_strings_and_bad_base64_are_malformed(signer: Any) -> None:
    _, verifier = signer
    assert verifier.verify("a.b!.c", now=0).reason is CodeReason.MALFORMED
    assert verifier.verify("x" * 2049, now=0).reason is CodeReason.MALFORMED


def test_a_card_id_is_read_from_the_code_the_hub_printed() -> None:
    key = Ed25519PrivateKey.generate()
    code = issue_code(key, "k1", iss="hub", sub="V1", kind=CodeKind.CARD, now=1000, jti="card-0042")
    assert card_id(code) == "card-0042"
    assert card_id("not.a-code") is None and card_id("a.b.c") is None
