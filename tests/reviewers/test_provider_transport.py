"""The HTTP layer under the adapters: one shared connection pool for many adapters, and no
redirects followed with a customer's key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from reviewers.providers.base import ProviderError
from reviewers.providers.factory import create_provider
from reviewers.providers.transport import SharedTransport
from sandbox.models import ModelFakeState, serve_anthropic, serve_openai
from tests.reviewers.test_providers import request
from tests.support.live_server import serve

KEY = "sk-transport-test-5b1e0c7d"
REQUEST = request()


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_adapters_share_one_pool_and_closing_one_leaves_it_open(name: Any) -> None:
    state = ModelFakeState(api_keys={KEY})
    serving = serve_anthropic(state) if name == "anthropic" else serve_openai(state)
    transport = SharedTransport(allow_private=True)  # the simulator is on loopback
    try:
        async with serving as base_url:
            for _ in range(3):
                provider = create_provider(
                    name, api_key=KEY, base_url=base_url, transport=transport
                )
                response = await provider.complete(REQUEST)
                await provider.aclose()
                assert response.output is not None
            # Three adapters, one keep-alive connection: the pool outlived each adapter.
            assert len(transport._pool.connections) == 1
    finally:
        await transport.close_for_good()
    assert len(state.requests) == 3


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_a_redirect_is_not_followed_with_the_key(name: Any) -> None:
    elsewhere_hits: list[dict[str, str]] = []
    elsewhere = FastAPI()

    @elsewhere.post("/{path:path}")
    async def record(path: str) -> dict[str, str]:
        elsewhere_hits.append({"path": path})
        return {}

    async with serve(elsewhere) as other:
        redirecting = FastAPI()

        @redirecting.post("/{path:path}")
        async def redirect(path: str) -> RedirectResponse:
            return RedirectResponse(f"{other}/{path}", status_code=307)

        async with serve(redirecting) as base_url:
            provider = create_provider(name, api_key=KEY, base_url=base_url)
            try:
                with pytest.raises(ProviderError) as raised:
                    await provider.complete(REQUEST)
            finally:
                await provider.aclose()
    assert elsewhere_hits == []
    assert KEY not in raised.value.message
