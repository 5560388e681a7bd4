"""Technician PIN hashes: the hub makes them, kiosks check them offline.

A PIN (6 to 8 digits for a new one, the hub's rule) is stored and synced only as
``scrypt$<salt hex>$<digest hex>`` (scrypt, n=2^14, r=8, p=1, 32-byte digest, 16-byte
random salt). :func:`hash_pin` makes one when a technician is added at the hub; every
pull page carries the active technicians' hashes down, and :func:`pin_matches` checks a
PIN typed at a kiosk against one in constant time. Anything else in the hash field (an
unknown scheme, a malformed string) matches no PIN.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)
