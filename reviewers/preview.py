"""A review's plan without the review: the calls it would make, the files each would carry,
what it would send and what it could cost, and what it would leave out. No model is called;
the same filters and planner as a real review decide (`sentinel review --dry-run`,
`GET /v1/workspaces/{w}/runs/{id}/preview`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from reviewers.config import ReviewConfig
from reviewers.diff import FileDiff
from reviewers.engine import PullRequestContext, plan_review
from reviewers.filters import filter_files
from reviewers.pricing import Price, dollars, estimate


@dataclass(frozen=True)
class PlannedCall:
    files: list[str]
    estimated_input_tokens: int  # the call's whole prompt, fixed part included
    partial: bool  # a file in it is only part of its diff


@dataclass(frozen=True)
class Preview:
    provider: str
    model: str
    context_window: int
    calls: list[PlannedCall]
    files_in_diff: int
    files_planned: int
    estimated_input_tokens: int
    output_tokens_at_most: int
    cost_at_most_usd: str | None  # None: no price for the model
    max_model_calls: int
    max_input_tokens: int | None
    not_reviewed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["not_reviewed"] = [{"path": p, "reason": r} for p, r in self.not_reviewed]
        return data


def preview(
    files: Sequence[FileDiff],
    *,
    config: ReviewConfig,
    pr: PullRequestContext,
    provider: str,
    model: str,
    context_window: int,
    max_output_tokens: int,
    max_model_calls: int,
    max_input_tokens: int | None,
    input_limit_reason: str | None = None,
    price: Price | None = None,
    new_texts: Mapping[str, str] | None = None,
) -> Preview:
    kept, skipped = filter_files(list(files), config.path_filters)
    plan = plan_review(
        kept, config=config, pr=pr, provider_name=provider, context_window=context_window,
        max_output_tokens=max_output_tokens, max_model_calls=max_model_calls,
        max_input_tokens=max_input_tokens, input_limit_reason=input_limit_reason,
        new_texts=new_texts,
    )  # fmt: skip
    planned = {path for chunk in plan.chunks for path in chunk.paths}
    guess = estimate(
        calls=len(plan.chunks),
        files=len(planned),
        input_tokens=plan.estimated_input_tokens,
        max_output_tokens=max_output_tokens,
        price=price,
    )
    return Preview(
        provider=provider,
        model=model,
        context_window=context_window,
        calls=[
            PlannedCall(c.paths, c.estimated_tokens + plan.prompt_overhead_tokens, c.partial)
            for c in plan.chunks
        ],
        files_in_diff=len(files),
        files_planned=len(planned),
        estimated_input_tokens=guess.input_tokens,
        output_tokens_at_most=guess.output_tokens_at_most,
        cost_at_most_usd=str(guess.cost_at_most) if guess.cost_at_most is not None else None,
        max_model_calls=max_model_calls,
        max_input_tokens=max_input_tokens,
        not_reviewed=[*skipped, *plan.not_reviewed],
    )


def render_preview(result: Preview, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(result.as_dict(), indent=2) + "\n"
    limit = f"{result.max_input_tokens:,}" if result.max_input_tokens is not None else "none"
    cost = (
        f", at most {dollars(Decimal(result.cost_at_most_usd))} at list prices"
        if result.cost_at_most_usd is not None
        else " (no price known for this model)"
    )
    lines = [
        "# Sentinel review plan (dry run: no model was called)",
        "",
        f"Model: {result.provider} `{result.model}` ({result.context_window:,}-token window). "
        f"Limits: {result.max_model_calls} calls, {limit} input tokens.",
        "",
        f"{len(result.calls)} call(s) for {result.files_planned} of {result.files_in_diff} "
        f"file(s): ~{result.estimated_input_tokens:,} input tokens, at most "
        f"{result.output_tokens_at_most:,} output tokens{cost}.",
    ]
    for number, call in enumerate(result.calls, start=1):
        part = " (part of a file)" if call.partial else ""
        lines += ["", f"## Call {number}: ~{call.estimated_input_tokens:,} tokens{part}", ""]
        lines += [f"- `{path}`" for path in call.files]
    if result.not_reviewed:
        lines += ["", "## Not reviewed", ""]
        lines += [f"- `{path}`: {reason}" for path, reason in result.not_reviewed]
    return "\n".join(lines) + "\n"
