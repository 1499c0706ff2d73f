"""`?verify=true`: one minimal call to the provider with the new key, reported, never raised.

The call goes through the same adapters the worker uses (reviewers.providers.factory). Its
outcome is informational: the key is saved either way, so a transient failure (a timeout, a
provider outage) never stops an admin from storing a correct key.
"""

from __future__ import annotations

import asyncio

import structlog
from pydantic import SecretStr

from app.admin.provider_keys.schemas import Verification
from app.policy.documents import ProviderName
from reviewers.providers.base import ModelRequest, ProviderError
from reviewers.providers.factory import create_provider
from reviewers.providers.transport import SharedTransport

log = structlog.get_logger(__name__)

VERIFY_TIMEOUT_SECONDS = 20.0

_REQUEST = ModelRequest(
    system="You are checking that an API key works. Answer with an empty findings list.",
    prompt='There is nothing to review. Return {"findings": []}.',
    max_output_tokens=64,
    output_schema={
        "type": "object",
        "properties": {"findings": {"type": "array", "items": {"type": "object"}}},
        "required": ["findings"],
    },
)


def _scrub(message: str, api_key: str) -> str:
    # Adapters promise never to echo the key; this holds even if one ever does.
    return message.replace(api_key, "[redacted]") if api_key else message


async def verify_key(
    provider: ProviderName,
    api_key: SecretStr,
    *,
    model: str | None,
    base_url: str | None,
    allow_private: bool,
) -> Verification:
    secret = api_key.get_secret_value()
    # Connects only to public addresses (unless allowed): the name was checked when the key
    # was saved, but it may resolve elsewhere by the time the call connects.
    transport = SharedTransport(allow_private=allow_private)
    client = create_provider(
        provider,
        api_key=secret,
        model=model,
        base_url=base_url,
        timeout=VERIFY_TIMEOUT_SECONDS,
        transport=transport,
    )
    try:
        response = await asyncio.wait_for(
            client.complete(_REQUEST), timeout=VERIFY_TIMEOUT_SECONDS + 5
        )
    except ProviderError as error:
        return Verification(ok=False, kind=error.kind.value, message=_scrub(error.message, secret))
    except TimeoutError:
        return Verification(
            ok=False, kind="timeout", message=f"no answer within {VERIFY_TIMEOUT_SECONDS:.0f} s"
        )
    except Exception as error:
        # Only the type: an unexpected exception's text is not vetted for secrets.
        log.warning("provider_key.verify_failed", provider=provider, error=type(error).__name__)
        return Verification(
            ok=False, kind="error", message=f"the call failed ({type(error).__name__})"
        )
    finally:
        await client.aclose()
        await transport.close_for_good()
    return Verification(ok=True, kind=None, message=f"{response.model} answered the key")
