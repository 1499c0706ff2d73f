"""What Sentinel knows about models without asking: the default per provider and how many
tokens each accepts (input and output together), which the budgeter packs chunks against.

Model IDs and windows as published by Anthropic and OpenAI in November 2026. Dated snapshot
IDs ("claude-sonnet-4-5-20250929") resolve through their alias. A model missing here, as on
a compatible endpoint (Azure deployment names, gateways, self-hosted), gets a conservative
window: too small only costs extra chunks, too large fails the call.
"""

from __future__ import annotations

from typing import Literal

ProviderName = Literal["anthropic", "openai"]

# Sonnet-class models: the balance of depth, speed and price a review on every push needs.
# Claude Sonnet 4.5 retires on 2026-11-30 and GPT-4.1 on 2027-01-14, so neither is a default.
DEFAULT_MODELS: dict[ProviderName, str] = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-6.2-sol",
}

DEFAULT_CONTEXT_WINDOW = 128_000
# Every Claude model since Claude 2.1 accepts at least this much.
CLAUDE_FLOOR_CONTEXT_WINDOW = 200_000

_CONTEXT_WINDOWS: dict[ProviderName, dict[str, int]] = {
    "anthropic": {
        "claude-fable-5-2": 1_000_000,
        "claude-fable-5-1": 1_000_000,
        "claude-fable-5": 1_000_000,
        "claude-opus-5-5": 1_000_000,
        "claude-opus-5": 1_000_000,
        "claude-sonnet-5-5": 1_000_000,
        "claude-sonnet-5": 1_000_000,
        "claude-opus-4-8": 200_000,
        "claude-opus-4-7": 200_000,
        "claude-opus-4-6": 200_000,
        "claude-opus-4-5": 200_000,
        "claude-sonnet-4-6": 200_000,
        "claude-sonnet-4-5": 200_000,
        "claude-haiku-4-5": 200_000,
    },
    "openai": {
        "gpt-6": 1_050_000,  # gpt-6-astra/-sol/-luna, gpt-6.1-*, gpt-6.2-*: 922K in + 128K out
        "gpt-5": 400_000,  # the GPT-5 family: 272K in + 128K out
        "gpt-4.1": 1_047_576,
        "gpt-4o": 128_000,
        "o3": 200_000,
        "o4-mini": 200_000,
    },
}


def context_window_for(provider: ProviderName, model: str) -> int:
    table = _CONTEXT_WINDOWS[provider]
    if model in table:
        return table[model]
    # The longest known prefix wins: "gpt-6.2-sol" → "gpt-6", and the snapshot
    # "claude-opus-5-5-20260922" → "claude-opus-5-5" rather than "claude-opus-5".
    matches = [key for key in table if model.startswith((f"{key}-", f"{key}."))]
    if matches:
        return table[max(matches, key=len)]
    if provider == "anthropic" and model.startswith("claude-"):
        return CLAUDE_FLOOR_CONTEXT_WINDOW
    return DEFAULT_CONTEXT_WINDOW
