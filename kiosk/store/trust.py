"""The trust list (the hub's public keys, revoked cards) and the memory of codes seen."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import RevokedCardRow, SeenCodeRow, TrustKeyRow


class TrustRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def keys(self) -> list[dict[str, Any]]:
        return [json.loads(r.jwk) for r in self.s.scalars(select(TrustKeyRow))]

    def revoked(self) -> list[str]:
        return list(self.s.scalars(select(RevokedCardRow.jti)))

    def replace_keys(self, keys: Iterable[Mapping[str, Any]]) -> bool:
        """Store ``keys`` in place of ours; ``False`` when they are the ones we hold already."""
        stored = {r.kid: r.jwk for r in self.s.scalars(select(TrustKeyRow))}
        fresh = {str(jwk["kid"]): json.dumps(jwk) for jwk in keys}
        if stored == fresh:
            return False
        self.s.execute(delete(TrustKeyRow))
        self.s.add_all(TrustKeyRow(kid=kid, jwk=text) for kid, text in fresh.items())
        return True

    def replace_revoked(self, jtis: Iterable[str]) -> None:
        self.s.execute(delete(RevokedCardRow))
        self.s.add_all(RevokedCardRow(jti=jti) for jti in set(jtis))

    def seen(self, jti: str) -> bool:
        return self.s.get(SeenCodeRow, jti) is not None

    def remember(self, codes: Mapping[str, int]) -> None:
        """Codes seen, each with its expiry (Unix seconds)."""
        self.s.add_all(SeenCodeRow(jti=jti, exp=exp) for jti, exp in codes.items())

    def forget_expired(self, before: int) -> None:
        self.s.execute(delete(SeenCodeRow).where(SeenCodeRow.exp < before))
