"""Provider keys at rest: AES-256-GCM under a versioned key ring (SENTINEL_ENCRYPTION_KEYS).

The associated data binds a ciphertext to its workspace, provider and key version, so a
ciphertext copied into another workspace's row (or relabelled) fails to decrypt.
Nothing here puts key material or plaintext into an exception message or a repr.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

NONCE_BYTES = 12
AAD_LABEL = b"sentinel/provider-key/v1"


class DecryptionError(Exception):
    """A stored provider key could not be decrypted. The message names the row, not the data."""


class UnknownKeyVersionError(DecryptionError):
    pass


@dataclass(frozen=True, repr=False)
class SealedKey:
    ciphertext: bytes  # nonce || ciphertext || tag
    key_version: int

    def __repr__(self) -> str:
        return f"SealedKey(key_version={self.key_version}, bytes={len(self.ciphertext)})"


def _associated_data(workspace_id: uuid.UUID, provider: str, key_version: int) -> bytes:
    return b"|".join(
        (AAD_LABEL, str(workspace_id).encode(), provider.encode(), str(key_version).encode())
    )


_VERSION_BYTES = 2
BLOB_AAD_LABEL = b"sentinel/sealed-blob/v1"


def _blob_aad(associated: bytes, key_version: int) -> bytes:
    return b"|".join((BLOB_AAD_LABEL, associated, str(key_version).encode()))


class KeyRing:
    """Versioned AES-256 keys. The newest version seals; any held version opens."""

    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ValueError("the key ring is empty")
        self._ciphers = {version: AESGCM(key) for version, key in keys.items()}
        self.newest_version = max(keys)

    def __repr__(self) -> str:
        return f"KeyRing(versions={sorted(self._ciphers)})"

    @property
    def versions(self) -> list[int]:
        return sorted(self._ciphers)

    def seal(self, plaintext: SecretStr, *, workspace_id: uuid.UUID, provider: str) -> SealedKey:
        version = self.newest_version
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[version].encrypt(
            nonce,
            plaintext.get_secret_value().encode(),
            _associated_data(workspace_id, provider, version),
        )
        return SealedKey(ciphertext=nonce + sealed, key_version=version)

    def open(self, sealed: SealedKey, *, workspace_id: uuid.UUID, provider: str) -> SecretStr:
        cipher = self._ciphers.get(sealed.key_version)
        if cipher is None:
            raise UnknownKeyVersionError(
                f"the {provider} key was sealed with encryption key version "
                f"{sealed.key_version}, which SENTINEL_ENCRYPTION_KEYS does not hold"
            )
        nonce, body = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(
                nonce, body, _associated_data(workspace_id, provider, sealed.key_version)
            )
        except InvalidTag:
            raise DecryptionError(
                f"the stored {provider} key does not decrypt for this workspace "
                f"(key version {sealed.key_version}): it was altered or copied from elsewhere"
            ) from None
        return SecretStr(plaintext.decode())

    def seal_bytes(self, plaintext: bytes, *, associated: bytes) -> bytes:
        """A self-describing ciphertext (version || nonce || ciphertext || tag) for values kept
        outside Postgres, such as GitHub tokens cached in Redis. `associated` binds it to its
        place (the cache key): copied to another key, it no longer opens."""
        version = self.newest_version
        nonce = os.urandom(NONCE_BYTES)
        body = self._ciphers[version].encrypt(nonce, plaintext, _blob_aad(associated, version))
        return version.to_bytes(_VERSION_BYTES, "big") + nonce + body

    def open_bytes(self, blob: bytes, *, associated: bytes) -> bytes:
        version = int.from_bytes(blob[:_VERSION_BYTES], "big")
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise UnknownKeyVersionError(
                f"a cached value was sealed with encryption key version {version}, which "
                "SENTINEL_ENCRYPTION_KEYS does not hold"
            )
        nonce = blob[_VERSION_BYTES : _VERSION_BYTES + NONCE_BYTES]
        body = blob[_VERSION_BYTES + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, body, _blob_aad(associated, version))
        except InvalidTag:
            raise DecryptionError(
                "a cached value does not decrypt for its key: it was altered or moved"
            ) from None

    def reseal(self, sealed: SealedKey, *, workspace_id: uuid.UUID, provider: str) -> SealedKey:
        """Re-encrypt under the newest version (key rotation)."""
        plaintext = self.open(sealed, workspace_id=workspace_id, provider=provider)
        return self.seal(plaintext, workspace_id=workspace_id, provider=provider)
