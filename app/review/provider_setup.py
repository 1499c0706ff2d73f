"""The model a run uses: the workspace's own key (BYOK), decrypted only in memory, behind a
guard that stops spending tokens the moment the run is superseded or cancelled and never
pays twice for the same request when the run is executed again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

import httpx2
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import tenant_session
from app.models import ProviderKey, RunStatus
from app.policy.documents import ProviderName
from app.review.errors import PermanentError, RunStopped
from app.review.model_responses import ResponseStore, request_digest
from app.runs.repository import RunRepository
from app.security.encryption import DecryptionError, KeyRing, SealedKey
from app.security.urls import check_provider_url
from app.worker_metrics import MODEL_LATENCY, MODEL_TOKENS
from reviewers.providers.base import ModelProvider, ModelRequest, ModelResponse
from reviewers.providers.factory import create_provider


@dataclass(frozen=True)
class ChosenProvider:
    provider: ModelProvider
    api_key: SecretStr  # kept only to make sure no output ever contains it


def pick_key(keys: list[ProviderKey], wanted: str | None) -> ProviderKey | None:
    """The key the policy names, else the workspace's only key, else None (static only)."""
    if wanted is not None:
        return next((key for key in keys if key.provider == wanted), None)
    return keys[0] if len(keys) == 1 else None


async def open_provider(
    key: ProviderKey,
    *,
    keyring: KeyRing,
    model: str | None,
    allow_private_urls: bool,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> ChosenProvider:
    try:
        api_key = keyring.open(
            SealedKey(key.encrypted_key, key.key_version),
            workspace_id=key.workspace_id,
            provider=key.provider,
        )
    except DecryptionError as error:
        raise PermanentError(f"{error}; save the {key.provider} key again") from None
    if key.base_url:
        # Checked again at connect time: a DNS change must not smuggle a request inside.
        try:
            await check_provider_url(key.base_url, allow_private=allow_private_urls)
        except ValueError as error:
            raise PermanentError(f"the {key.provider} base URL is not allowed: {error}") from None
    provider = create_provider(
        cast(ProviderName, key.provider),  # the table's CHECK constraint holds it to these
        api_key=api_key.get_secret_value(),
        model=model or key.model,
        base_url=key.base_url,
        transport=transport,
    )
    return ChosenProvider(provider=provider, api_key=api_key)


class StopAwareProvider:
    """Checks, before every model call, that the run is still wanted, and answers from the
    run's kept responses (model_responses.py) when this exact request was already paid for.
    `checked=True`: the caller has just checked the status, so the first call skips that."""

    def __init__(
        self,
        inner: ModelProvider,
        sessionmaker: async_sessionmaker[AsyncSession],
        workspace_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        checked: bool = False,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.context_window = inner.context_window
        self._sessionmaker = sessionmaker
        self._workspace_id = workspace_id
        self._run_id = run_id
        self._checked = checked
        self._responses = ResponseStore(sessionmaker, workspace_id, run_id)
        self.reused = 0  # answers taken from an earlier execution of the run

    async def complete(self, request: ModelRequest) -> ModelResponse:
        digest = request_digest(self.model, request)
        check_status, self._checked = not self._checked, False
        # One transaction for both questions: is the run still wanted, was this answered?
        async with tenant_session(self._sessionmaker, self._workspace_id) as session:
            if check_status:
                status = await RunRepository(session, self._workspace_id).status_of(self._run_id)
                if status != RunStatus.RUNNING:
                    raise RunStopped(f"run is {status}")
            kept = await self._responses.find(session, digest)
        if kept is not None:
            self.reused += 1
            return kept
        with MODEL_LATENCY.labels(self.name).time():
            response = await self.inner.complete(request)
        MODEL_TOKENS.labels(self.name, "input").inc(response.input_tokens)
        MODEL_TOKENS.labels(self.name, "output").inc(response.output_tokens)
        await self._responses.keep(digest, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
