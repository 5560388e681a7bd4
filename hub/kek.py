"""The key-encryption key (KEK) that seals the hub's signing keys, and where it is found.

A signing key's private half is stored sealed: AES-256-GCM under the KEK, with the key's
``kid`` as associated data (a sealed key copied into another key's row does not open).
The KEK itself never enters the database, so a copy of the database alone signs
nothing. It is found, first match wins, in:

1. ``HUB_KEK``: the key in base64 (32 bytes);
2. ``$CREDENTIALS_DIRECTORY/hub-kek``: systemd's credential (``LoadCredential=``), same text;
3. the key file (``kiosk-hub --key-file``, ``HUB_KEY_FILE``; by default ``hub-kek`` in the
   hub's configuration directory), which :func:`make_key_file` creates 0600 in a 0700
   folder. A key file that others may read is refused.

Every failure is a :class:`KekError` whose message is one line saying where to look.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEK_ENV = "HUB_KEK"
KEY_FILE_ENV = "HUB_KEY_FILE"
CREDENTIAL = "hub-kek"
SEALED = "sealed:aes256gcm:"
"""How a sealed private key's text begins (base64 of the nonce and the ciphertext follows)."""
NONCE_BYTES = 12


class KekError(RuntimeError):
    """The KEK is missing, malformed, too open, or does not open a sealed key (one line)."""


def default_key_file() -> Path:
    return Path(platformdirs.user_config_dir("timebank-hub", appauthor=False)) / CREDENTIAL


def looked_in(key_file: Path) -> str:
    """Where :func:`find_kek` looks, for a message that says the key is missing."""
    return f"{KEK_ENV}, $CREDENTIALS_DIRECTORY/{CREDENTIAL}, {key_file}"


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


@dataclass(frozen=True)
class Kek:
    secret: bytes = field(repr=False)
    where: str
    """Where it came from, for messages (``HUB_KEK``, the credential's or the key file's path)."""

    @classmethod
    def generate(cls, where: str = "a new key") -> Kek:
        return cls(AESGCM.generate_key(bit_length=256), where)

    @classmethod
    def decode(cls, text: str, where: str) -> Kek:
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != 32:
            raise KekError(f"the key-encryption key in {where} is not 32 bytes in base64")
        return cls(secret, where)

    def encoded(self) -> str:
        return base64.b64encode(self.secret).decode()

    def seal(self, kid: str, private_pem: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.secret).encrypt(nonce, private_pem.encode(), kid.encode())
        return SEALED + base64.b64encode(nonce + sealed).decode()

    def open(self, kid: str, stored: str) -> str:
        """The PEM a sealed key holds; :class:`KekError` when this KEK did not seal it for ``kid``."""
        if not is_sealed(stored):
            raise KekError(f"signing key {kid} is not sealed")
        try:
            raw = base64.b64decode(stored[len(SEALED) :], validate=True)
            pem = AESGCM(self.secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], kid.encode())
        except (binascii.Error, ValueError, InvalidTag):
            where = self.where
            raise KekError(f"the key-encryption key in {where} does not open signing key {kid}") from None
        return pem.decode()


def find_kek(key_file: Path, environ: Mapping[str, str] = os.environ) -> Kek | None:
    """The KEK from the environment, systemd's credentials or the key file; None when none has one."""
    if environ.get(KEK_ENV):
        return Kek.decode(environ[KEK_ENV], KEK_ENV)
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL).is_file():
        path = Path(credentials) / CREDENTIAL
        return Kek.decode(_read(path), str(path))
    if not key_file.exists():
        return None
    mode = key_file.stat().st_mode
    if mode & 0o077:
        raise KekError(
            f"the key file {key_file} may be read by others (mode {stat.S_IMODE(mode):04o}): chmod 600 it"
        )
    return Kek.decode(_read(key_file), str(key_file))


def make_key_file(path: Path) -> Kek:
    """A new KEK written to ``path``: the file 0600 (never over an existing one), its folder 0700 if new."""
    kek = Kek.generate(str(path))
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KekError(f"cannot create the key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as f:
        f.write(kek.encoded() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return kek


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise KekError(f"cannot read the key-encryption key in {path}: {exc}") from None
