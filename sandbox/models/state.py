"""Everything a model fake knows, and the knobs a test turns to make a provider misbehave.

One `ModelFakeState` backs one fake (or both: the Anthropic and OpenAI fakes can share it).
It holds the API keys the "provider" accepts, the models it serves (None: any), scripted
failures and replies consumed in order, a per-call latency, and a record of every request.
Without a scripted reply the fake answers with `reviewer`, a deterministic reviewer that
reads the prompt (see reviewer.py), so demos and end-to-end runs get realistic findings.

Everything runs on the server's event loop; no mutation spans an `await`, so no locks.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.models.reviewer import PromptReviewer

ProviderName = Literal["anthropic", "openai"]
AnswerMode = Literal["tool", "json_schema", "text"]

# Headers that carry a credential: recorded by suffix only, never in full.
CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})


@dataclass(frozen=True)
class ModelCall:
    """A request the fake accepted, as a responder sees it."""

    provider: ProviderName
    model: str
    system: str
    prompt: str  # every user-message text, joined by blank lines
    mode: AnswerMode  # how the request asked for its answer
    tool_name: str | None  # the forced tool or the json_schema name
    schema: dict[str, Any] | None
    body: dict[str, Any]


# A reply is the answer object (becomes the tool input or the JSON text) or raw text
# (becomes a text answer, or malformed tool arguments where the API has them).
Reply = dict[str, Any] | str
Responder = Callable[[ModelCall], Reply]


@dataclass(frozen=True)
class Fault:
    status: int
    error_type: str | None = None  # Anthropic `error.type` / OpenAI `error.type`
    message: str | None = None
    code: str | None = None  # OpenAI `error.code` / Anthropic `error.details.error_code`
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedModelRequest:
    provider: ProviderName
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names; credential headers left out
    key_suffix: str | None  # last 4 characters of the credential presented, if any
    text: str  # the raw body, decoded
    status: int | None = None

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None


class ModelFakeState:
    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("sk-test-sentinel",),
        models: Iterable[str] | None = None,
        delay_seconds: float = 0.0,
        reviewer: PromptReviewer | None = None,
    ) -> None:
        self.api_keys = set(api_keys)
        self.models: set[str] | None = set(models) if models is not None else None
        self.delay_seconds = delay_seconds
        self.reviewer = reviewer or PromptReviewer()
        # When set: tokens a request may hold, input and `max_tokens` together; a longer one
        # is rejected the way the provider rejects it (400, "prompt is too long").
        self.context_window: int | None = None
        self.requests: list[RecordedModelRequest] = []
        self.calls: list[ModelCall] = []
        self._faults: deque[Fault] = deque()
        self._replies: deque[Reply | Responder] = deque()
        # The SDKs see these request ids in errors; tests can match them to records.
        self._sequence = 0

    # -- knobs -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        error_type: str | None = None,
        message: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `count` authenticated model calls fail with `status`. Unset fields get
        the provider's usual wording for that status (see each fake's defaults)."""
        fault = Fault(status, error_type, message, code, dict(headers or {}))
        self._faults.extend([fault] * count)

    def respond_with(self, reply: Reply | Responder, count: int = 1) -> None:
        """The next `count` successful calls answer `reply` (or what `reply(call)` returns)
        instead of reviewing the prompt."""
        self._replies.extend([reply] * count)

    def reset(self) -> None:
        self._faults.clear()
        self._replies.clear()
        self.requests.clear()
        self.calls.clear()
        self.delay_seconds = 0.0
        self.context_window = None

    # -- used by the fakes -------------------------------------------------------------

    def next_fault(self) -> Fault | None:
        return self._faults.popleft() if self._faults else None

    def answer(self, call: ModelCall) -> Reply:
        self.calls.append(call)
        scripted = self._replies.popleft() if self._replies else None
        if scripted is None:
            return self.reviewer.review(call.prompt)
        return scripted(call) if callable(scripted) else scripted

    def next_id(self) -> int:
        self._sequence += 1
        return self._sequence

    def accepts_model(self, model: str) -> bool:
        return self.models is None or model in self.models
