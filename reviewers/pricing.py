"""What a review costs the workspace at its provider's list prices, in US dollars.

A review shows its estimate on the check run before any model call (input from the plan,
output at most the reserved `max_tokens` of each call) and what it cost after (the tokens the
provider reported). The workspace pays its provider directly (BYOK); these figures tell it
what to expect, and billing still reads the exact token counts from the usage records.

Prices per million tokens, input and output. The defaults are the providers' published list
prices per model family (longest prefix wins, as for context windows); Claude 5 Sonnet and
Opus are listed at their 4.x families' price points. A deployment sets its own table, or one
for a model missing here, with `SENTINEL_MODEL_PRICES` (JSON: {"model prefix": [input,
output]}); a model without a price shows tokens only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Price:
    input_per_mtok: Decimal
    output_per_mtok: Decimal

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        """Dollars, to the hundredth of a cent."""
        total = (
            self.input_per_mtok * input_tokens + self.output_per_mtok * output_tokens
        ) / 1_000_000
        return total.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _p(input_price: str, output_price: str) -> Price:
    return Price(Decimal(input_price), Decimal(output_price))


DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-5": _p("5", "25"),
    "claude-sonnet-5": _p("3", "15"),
    "claude-opus-4": _p("15", "75"),
    "claude-opus-4-5": _p("5", "25"),
    "claude-opus-4-6": _p("5", "25"),
    "claude-sonnet-4": _p("3", "15"),
    "claude-haiku-4-5": _p("1", "5"),
    "gpt-5": _p("1.25", "10"),
    "gpt-4.1": _p("2", "8"),
    "gpt-4o": _p("2.5", "10"),
    "o3": _p("2", "8"),
    "o4-mini": _p("1.1", "4.4"),
}


def price_table(
    overrides: Mapping[str, tuple[float, float] | list[float]] | None,
) -> dict[str, Price]:
    """The defaults with a deployment's own prices on top."""
    table = dict(DEFAULT_PRICES)
    for prefix, (input_price, output_price) in (overrides or {}).items():
        table[prefix] = Price(Decimal(str(input_price)), Decimal(str(output_price)))
    return table


def price_for(model: str | None, table: Mapping[str, Price]) -> Price | None:
    if not model:
        return None
    if model in table:
        return table[model]
    matches = [key for key in table if model.startswith((f"{key}-", f"{key}."))]
    return table[max(matches, key=len)] if matches else None


def dollars(amount: Decimal) -> str:
    """`$0.0123` below a dollar (cents alone would round a review to $0.00), else `$1.23`."""
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"


@dataclass(frozen=True)
class Estimate:
    """What a planned review will send and may cost, before any call."""

    calls: int
    files: int
    input_tokens: int
    output_tokens_at_most: int
    cost_at_most: Decimal | None  # None: no price for the model

    def describe(self, model: str | None) -> str:
        calls = f"{self.calls} model call{'s' if self.calls != 1 else ''}"
        files = f"{self.files} file{'s' if self.files != 1 else ''}"
        text = (
            f"{calls} for {files}: ~{self.input_tokens:,} input tokens and at most "
            f"{self.output_tokens_at_most:,} output tokens"
        )
        if self.cost_at_most is None:
            return f"{text} (no price is known for `{model}`; set SENTINEL_MODEL_PRICES)"
        return f"{text}, at most {dollars(self.cost_at_most)} at `{model}` list prices"


def estimate(
    *, calls: int, files: int, input_tokens: int, max_output_tokens: int, price: Price | None
) -> Estimate:
    output = calls * max_output_tokens
    cost = price.cost(input_tokens, output) if price is not None else None
    return Estimate(calls, files, input_tokens, output, cost)
