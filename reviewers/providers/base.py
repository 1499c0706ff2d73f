"""The one interface every model provider adapter implements, and the errors they raise.

Adapters build on the official SDKs with the SDKs' own retries turned off: the worker owns
the retry policy. Every error says, in words an admin can act on, what went wrong, and never
includes the API key, the prompt or the diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class ModelRequest:
    system: str
    # The user message: instructions plus clearly delimited untrusted data sections.
    prompt: str
    max_output_tokens: int
    # The JSON Schema the answer must follow (CONTRACT.md "Model output schema").
    output_schema: dict[str, Any]
    temperature: float = 0.0


@dataclass(frozen=True)
class ModelResponse:
    # The parsed JSON object the model produced (tool input or JSON response), or None
    # when the model produced nothing parseable; `raw_text` then holds what it said.
    output: dict[str, Any] | None
    raw_text: str
    input_tokens: int
    output_tokens: int
    model: str
    latency_seconds: float


class ProviderErrorKind(StrEnum):
    AUTH = "auth"  # 401/403: the key is wrong, revoked or lacks access. Permanent.
    QUOTA = "quota"  # credit exhausted or spend limit reached. Permanent.
    BAD_REQUEST = "bad_request"  # 400/404/422: wrong model name, bad parameters. Permanent.
    # The request is larger than the model takes: permanent for that request, but the engine
    # splits the chunk and sends the halves.
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"  # 429. Transient; honour retry_after.
    OVERLOADED = "overloaded"  # Anthropic 529. Transient.
    SERVER = "server"  # 5xx. Transient.
    TIMEOUT = "timeout"  # no answer in time. Transient.
    CONNECTION = "connection"  # could not connect. Transient.

    @property
    def transient(self) -> bool:
        return self in {
            ProviderErrorKind.RATE_LIMITED,
            ProviderErrorKind.OVERLOADED,
            ProviderErrorKind.SERVER,
            ProviderErrorKind.TIMEOUT,
            ProviderErrorKind.CONNECTION,
        }


class ProviderError(Exception):
    def __init__(
        self,
        kind: ProviderErrorKind,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after


class ModelProvider(Protocol):
    """A configured model: one provider, one model, one key, optionally a base URL."""

    name: str  # "anthropic" or "openai"
    model: str
    context_window: int  # tokens the model accepts, input and output together

    async def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def aclose(self) -> None: ...
