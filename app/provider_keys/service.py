"""Storing, reading and rotating BYOK provider keys. Plaintext exists only in memory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import structlog
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import SystemContext, system_session
from app.models import ProviderKey
from app.provider_keys.repository import ProviderKeyRepository
from app.security.encryption import DecryptionError, KeyRing, SealedKey

log = structlog.get_logger(__name__)

ROTATION_BATCH_SIZE = 100


async def save_provider_key(
    session: AsyncSession,
    keyring: KeyRing,
    *,
    workspace_id: uuid.UUID,
    provider: str,
    api_key: SecretStr,
    base_url: str | None = None,
    model: str | None = None,
) -> ProviderKey:
    """Create or replace the workspace's key for `provider`, sealed under the newest key."""
    sealed = keyring.seal(api_key, workspace_id=workspace_id, provider=provider)
    repository = ProviderKeyRepository(session, workspace_id)
    row = await repository.get_for_provider(provider)
    if row is None:
        row = repository.add(
            ProviderKey(
                workspace_id=workspace_id,
                provider=provider,
                encrypted_key=sealed.ciphertext,
                key_version=sealed.key_version,
                key_last4=api_key.get_secret_value()[-4:],
                base_url=base_url,
                model=model,
            )
        )
    else:
        row.encrypted_key = sealed.ciphertext
        row.key_version = sealed.key_version
        row.key_last4 = api_key.get_secret_value()[-4:]
        row.base_url = base_url
        row.model = model
    await session.flush()
    return row


async def load_provider_key(
    session: AsyncSession, keyring: KeyRing, *, workspace_id: uuid.UUID, provider: str
) -> SecretStr | None:
    row = await ProviderKeyRepository(session, workspace_id).get_for_provider(provider)
    return open_provider_key(keyring, row) if row is not None else None


def open_provider_key(keyring: KeyRing, row: ProviderKey) -> SecretStr:
    """The key a stored row seals (bound to its workspace and provider)."""
    return keyring.open(
        SealedKey(row.encrypted_key, row.key_version),
        workspace_id=row.workspace_id,
        provider=row.provider,
    )


@dataclass
class RotationReport:
    newest_version: int
    resealed: int = 0
    failures: list[str] = field(default_factory=list)


async def rotate_provider_keys(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: KeyRing
) -> RotationReport:
    """Re-encrypt every provider key not yet under the newest key version.

    Each batch commits on its own, and every row is either wholly old or wholly new, so the
    rotation is safe to interrupt and to run again; a second run finds nothing to do.
    """
    report = RotationReport(newest_version=keyring.newest_version)
    after: uuid.UUID | None = None
    while True:
        async with system_session(sessionmaker, SystemContext.KEY_ROTATION) as session:
            statement = (
                select(ProviderKey)
                .where(ProviderKey.key_version != keyring.newest_version)
                .order_by(ProviderKey.id)
                .limit(ROTATION_BATCH_SIZE)
                .with_for_update()
            )
            if after is not None:
                statement = statement.where(ProviderKey.id > after)
            rows = list((await session.execute(statement)).scalars())
            if not rows:
                return report
            for row in rows:
                after = row.id
                try:
                    sealed = keyring.reseal(
                        SealedKey(row.encrypted_key, row.key_version),
                        workspace_id=row.workspace_id,
                        provider=row.provider,
                    )
                except DecryptionError as error:
                    report.failures.append(f"workspace {row.workspace_id}: {error}")
                    continue
                row.encrypted_key = sealed.ciphertext
                row.key_version = sealed.key_version
                report.resealed += 1
            await session.flush()
        log.info("provider_keys.rotation.batch", resealed=report.resealed)
