"""Hub-signed codes verify at a kiosk; a rotation keeps the old key in the trust list; kiosk tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hub.app import create_api
from hub.service import Hub
from protocol.codes import CodeKind, CodeVerifier, MemoryReplay, TrustList


def test_a_hub_code_verifies_against_the_hub_trust_list(hub: Hub) -> None:
    hub.import_hours(b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,1,x,2026-11-01\n")
    code = hub.issue_code("V1", CodeKind.CARD)
    verifier = CodeVerifier(TrustList(hub.jwks(), hub.revoked()), MemoryReplay(), [hub.issuer])
    verdict = verifier.verify(code)
    assert verdict.ok and verdict.claims is not None and verdict.claims.sub == "V1"
    assert verdict.claims.kind is CodeKind.CARD
    hub.revoke_card(verdict.claims.jti)
    again = CodeVerifier(TrustList(hub.jwks(), hub.revoked()), MemoryReplay(), [hub.issuer])
    assert again.verify(code).reason is not None and again.verify(code).reason.value == "revoked"


def test_rotation_keeps_the_retired_keys_live(hub: Hub) -> None:
    """Until the codes they signed have expired (``tests/hub/test_keys.py``), not two rotations."""
    first = hub.rotate_key()
    second = hub.rotate_key()
    assert [k["kid"] for k in hub.jwks()["keys"]] == [first, second]
    third = hub.rotate_key()
    assert [k["kid"] for k in hub.jwks()["keys"]] == [first, second, third]


def test_kiosk_tokens_are_kept_hashed(hub: Hub) -> None:
    added = hub.add_kiosk("驿站-2")
    assert hub.client_for_token(added["token"]) == added["kiosk_id"]
    assert hub.client_for_token("not-a-token") is None


def test_the_http_api(hub: Hub) -> None:
    hub.import_hours(b"record_id,volunteer_id,name,hours,activity,certified_on\nR1,V1,A,2,x,2026-11-01\n")
    client = TestClient(create_api(hub))
    app = {"Authorization": f"Bearer {hub.add_kiosk('志愿者小程序', role='app')['token']}"}
    kiosk = {"Authorization": f"Bearer {hub.add_kiosk('驿站-1')['token']}"}
    # codes and balances only for the volunteer app's server: anyone else could spend a stranger's 益币
    for headers in ({}, kiosk, {"Authorization": "Bearer nope"}):
        assert client.post("/v1/codes", json={"volunteer_id": "V1"}, headers=headers).status_code == 401
        assert client.get("/v1/volunteers/V1/balance", headers=headers).status_code == 401
    assert client.get("/v1/sync/pull", headers=app).status_code == 401  # and the app cannot sync
    assert client.get("/v1/volunteers/V1/balance", headers=app).json()["balance"] == 20
    assert client.get("/v1/volunteers/nobody/balance", headers=app).status_code == 404
    code = client.post("/v1/codes", json={"volunteer_id": "V1"}, headers=app).json()["code"]
    verifier = CodeVerifier(TrustList(client.get("/v1/jwks").json(), []), MemoryReplay(), [hub.issuer])
    assert verifier.verify(code).ok
    assert client.post("/v1/codes", json={"volunteer_id": "nobody"}, headers=app).status_code == 404
    assert [k["name"] for k in hub.kiosks()] == ["驿站-1"]  # the app is not a kiosk
    assert "/v1/jwks" in client.get("/openapi.json").json()["paths"]
