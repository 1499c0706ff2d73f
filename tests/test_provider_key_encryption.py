"""Provider keys at rest: AES-GCM bound to workspace, provider and key version; rotation."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import tenant_session
from app.models import ProviderKey
from app.provider_keys import service as provider_key_service
from app.provider_keys.service import load_provider_key, rotate_provider_keys, save_provider_key
from app.security.encryption import DecryptionError, KeyRing, SealedKey, UnknownKeyVersionError
from tests.support.factories import WorkspaceGraph, make_workspace_graph

SENTINEL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "sentinel"
PLAINTEXT = "sk-ant-api03-" + "Zq7" * 20 + "wXyZ"


def ring(*versions: int) -> tuple[KeyRing, dict[int, bytes]]:
    keys = {version: secrets.token_bytes(32) for version in versions}
    return KeyRing(keys), keys


def ring_setting(keys: dict[int, bytes]) -> str:
    return ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in keys.items())


def test_seal_and_open_round_trip() -> None:
    keyring, _ = ring(1)
    workspace = uuid.uuid4()
    sealed = keyring.seal(SecretStr(PLAINTEXT), workspace_id=workspace, provider="openai")
    assert PLAINTEXT.encode() not in sealed.ciphertext
    opened = keyring.open(sealed, workspace_id=workspace, provider="openai")
    assert opened.get_secret_value() == PLAINTEXT
    assert PLAINTEXT not in repr(opened)
    assert PLAINTEXT not in repr(sealed)


@pytest.mark.parametrize(
    "change",
    ["workspace", "provider", "version_label", "tampered"],
)
def test_ciphertext_is_bound_to_its_row(change: str) -> None:
    keyring, keys = ring(1)
    workspace = uuid.uuid4()
    sealed = keyring.seal(SecretStr(PLAINTEXT), workspace_id=workspace, provider="anthropic")
    provider = "anthropic"
    if change == "workspace":
        workspace = uuid.uuid4()
    elif change == "provider":
        provider = "openai"
    elif change == "version_label":
        # The same key material under another version number must not open it either.
        keyring = KeyRing({1: keys[1], 2: keys[1]})
        sealed = SealedKey(sealed.ciphertext, key_version=2)
    else:
        flipped = bytearray(sealed.ciphertext)
        flipped[-1] ^= 0x01
        sealed = SealedKey(bytes(flipped), sealed.key_version)
    with pytest.raises(DecryptionError) as raised:
        keyring.open(sealed, workspace_id=workspace, provider=provider)
    assert PLAINTEXT not in str(raised.value)


def test_unknown_key_version_is_named() -> None:
    old, _ = ring(1)
    sealed = old.seal(SecretStr(PLAINTEXT), workspace_id=uuid.uuid4(), provider="openai")
    new, _ = ring(2)
    with pytest.raises(UnknownKeyVersionError, match="version 1"):
        new.open(sealed, workspace_id=uuid.uuid4(), provider="openai")


async def test_ciphertext_copied_into_another_workspace_fails_to_decrypt(
    sessionmaker: async_sessionmaker[AsyncSession], owner_engine: AsyncEngine
) -> None:
    keyring, _ = ring(1)
    a = await make_workspace_graph(sessionmaker, "umbrella", keyring)
    b = await make_workspace_graph(sessionmaker, "cyberdyne", keyring)
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        await save_provider_key(
            session,
            keyring,
            workspace_id=a.workspace_id,
            provider="openai",
            api_key=SecretStr(PLAINTEXT),
        )
    async with tenant_session(sessionmaker, b.workspace_id) as session:
        await save_provider_key(
            session,
            keyring,
            workspace_id=b.workspace_id,
            provider="openai",
            api_key=SecretStr("sk-other-key-of-b"),
        )
    # Someone with database access copies A's ciphertext over B's row.
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE provider_keys SET encrypted_key = (SELECT encrypted_key FROM provider_keys"
                " WHERE workspace_id = :a AND provider = 'openai')"
                " WHERE workspace_id = :b AND provider = 'openai'"
            ),
            {"a": a.workspace_id, "b": b.workspace_id},
        )
    async with tenant_session(sessionmaker, b.workspace_id) as session:
        with pytest.raises(DecryptionError):
            await load_provider_key(
                session, keyring, workspace_id=b.workspace_id, provider="openai"
            )
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        key = await load_provider_key(
            session, keyring, workspace_id=a.workspace_id, provider="openai"
        )
    assert key is not None
    assert key.get_secret_value() == PLAINTEXT


async def test_plaintext_reaches_no_table_and_no_log(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keyring, _ = ring(1)
    graph = await make_workspace_graph(sessionmaker, "wayne", keyring)
    caplog.set_level(logging.DEBUG)
    async with tenant_session(sessionmaker, graph.workspace_id) as session:
        row = await save_provider_key(
            session,
            keyring,
            workspace_id=graph.workspace_id,
            provider="openai",
            api_key=SecretStr(PLAINTEXT),
        )
        assert PLAINTEXT not in repr(row)
    await rotate_provider_keys(sessionmaker, KeyRing({**{1: b"x" * 32}, 2: b"y" * 32}))
    # Every text-like and binary column of every table, as the owner sees it.
    async with owner_engine.connect() as connection:
        dump = (
            await connection.execute(
                text(
                    "SELECT string_agg(t::text, '') FROM ("
                    " SELECT row_to_json(r)::text AS t FROM provider_keys r"
                    " UNION ALL SELECT row_to_json(r)::text FROM audit_events r"
                    " UNION ALL SELECT encode(encrypted_key, 'escape') FROM provider_keys) s"
                )
            )
        ).scalar_one()
    assert PLAINTEXT not in dump
    assert row.key_last4 == PLAINTEXT[-4:]
    logged = caplog.text + capsys.readouterr().err
    assert PLAINTEXT not in logged


async def _seed_keys(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: KeyRing, count: int
) -> list[WorkspaceGraph]:
    graphs = []
    for index in range(count):
        graph = await make_workspace_graph(sessionmaker, f"tenant{index}", keyring)
        async with tenant_session(sessionmaker, graph.workspace_id) as session:
            await save_provider_key(
                session,
                keyring,
                workspace_id=graph.workspace_id,
                provider="openai",
                api_key=SecretStr(f"{PLAINTEXT}-{index}"),
            )
        graphs.append(graph)
    return graphs


async def _versions(owner_engine: AsyncEngine) -> list[int]:
    async with owner_engine.connect() as connection:
        return list(
            (await connection.execute(text("SELECT key_version FROM provider_keys"))).scalars()
        )


async def test_rotation_reseals_everything_and_is_idempotent(
    sessionmaker: async_sessionmaker[AsyncSession], owner_engine: AsyncEngine
) -> None:
    old, keys = ring(1)
    graphs = await _seed_keys(sessionmaker, old, 3)
    new_key = secrets.token_bytes(32)
    rotated = KeyRing({1: keys[1], 2: new_key})
    report = await rotate_provider_keys(sessionmaker, rotated)
    # 3 openai keys plus each graph's anthropic key.
    assert report.resealed == 6
    assert report.failures == []
    assert set(await _versions(owner_engine)) == {2}
    assert (await rotate_provider_keys(sessionmaker, rotated)).resealed == 0
    # Version 1 can now leave the ring: everything opens under version 2 alone.
    only_new = KeyRing({2: new_key})
    for index, graph in enumerate(graphs):
        async with tenant_session(sessionmaker, graph.workspace_id) as session:
            key = await load_provider_key(
                session, only_new, workspace_id=graph.workspace_id, provider="openai"
            )
        assert key is not None
        assert key.get_secret_value() == f"{PLAINTEXT}-{index}"


class _CrashAfter(KeyRing):
    """A key ring whose process 'dies' after resealing `limit` keys."""

    def __init__(self, keys: dict[int, bytes], limit: int) -> None:
        super().__init__(keys)
        self.limit = limit

    def reseal(self, sealed: SealedKey, *, workspace_id: uuid.UUID, provider: str) -> SealedKey:
        if self.limit == 0:
            raise KeyboardInterrupt
        self.limit -= 1
        return super().reseal(sealed, workspace_id=workspace_id, provider=provider)


async def test_rotation_interrupted_midway_loses_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, keys = ring(1)
    graphs = await _seed_keys(sessionmaker, old, 3)
    new_keys = {1: keys[1], 2: secrets.token_bytes(32)}
    monkeypatch.setattr(provider_key_service, "ROTATION_BATCH_SIZE", 2)
    with pytest.raises(KeyboardInterrupt):
        await rotate_provider_keys(sessionmaker, _CrashAfter(new_keys, limit=3))
    versions = await _versions(owner_engine)
    assert sorted(versions) == [1, 1, 1, 1, 2, 2]  # the first batch committed, the second not
    report = await rotate_provider_keys(sessionmaker, KeyRing(new_keys))
    assert report.resealed == 4
    assert set(await _versions(owner_engine)) == {2}
    for graph in graphs:
        async with tenant_session(sessionmaker, graph.workspace_id) as session:
            assert await load_provider_key(
                session, KeyRing(new_keys), workspace_id=graph.workspace_id, provider="openai"
            )


async def test_keys_rotate_command(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], owner_engine: AsyncEngine
) -> None:
    old, keys = ring(1)
    await _seed_keys(sessionmaker, old, 2)
    env = {
        **os.environ,
        "SENTINEL_DATABASE_URL": settings.database_url,
        "SENTINEL_ENCRYPTION_KEYS": ring_setting({**keys, 7: secrets.token_bytes(32)}),
    }
    first = subprocess.run(
        [str(SENTINEL), "keys", "rotate"], env=env, capture_output=True, text=True, check=False
    )
    assert first.returncode == 0, first.stderr
    assert "re-encrypted 4 provider key(s) under key version 7" in first.stderr
    assert set(await _versions(owner_engine)) == {7}
    second = subprocess.run(
        [str(SENTINEL), "keys", "rotate"], env=env, capture_output=True, text=True, check=False
    )
    assert second.returncode == 0
    assert "re-encrypted 0" in second.stderr
    assert PLAINTEXT not in first.stderr + first.stdout + second.stderr


async def test_keys_rotate_reports_a_key_it_cannot_open(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    old, _ = ring(1)
    await _seed_keys(sessionmaker, old, 1)
    env = {
        **os.environ,
        "SENTINEL_DATABASE_URL": settings.database_url,
        "SENTINEL_ENCRYPTION_KEYS": ring_setting({2: secrets.token_bytes(32)}),
    }
    result = subprocess.run(
        [str(SENTINEL), "keys", "rotate"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "key version 1, which SENTINEL_ENCRYPTION_KEYS does not hold" in result.stderr
    assert "Traceback" not in result.stderr


def test_provider_key_model_has_no_plaintext_column() -> None:
    columns = {c.name for c in ProviderKey.__table__.c}
    assert not columns & {"api_key", "key", "plaintext", "secret"}
