"""Fakes of the Anthropic Messages and OpenAI Chat Completions APIs that speak the real wire
formats over real HTTP, so the official SDKs run unmodified against them.

    state = ModelFakeState(api_keys={"sk-test"})
    async with serve_anthropic(state) as base_url:
        client = anthropic.AsyncAnthropic(api_key="sk-test", base_url=base_url)

By default a fake reviews the prompt (reviewer.py); `state.fail_next(...)`,
`state.respond_with(...)` and `state.delay_seconds` script everything else, and
`state.requests` records what was asked.
"""

from sandbox.models.anthropic_fake import create_anthropic_app
from sandbox.models.openai_fake import create_openai_app
from sandbox.models.reviewer import PromptReviewer, Rule
from sandbox.models.server import serve_anthropic, serve_app, serve_openai
from sandbox.models.state import (
    Fault,
    ModelCall,
    ModelFakeState,
    RecordedModelRequest,
    Reply,
    Responder,
)

__all__ = [
    "Fault",
    "ModelCall",
    "ModelFakeState",
    "PromptReviewer",
    "RecordedModelRequest",
    "Reply",
    "Responder",
    "Rule",
    "create_anthropic_app",
    "create_openai_app",
    "serve_anthropic",
    "serve_app",
    "serve_openai",
]
