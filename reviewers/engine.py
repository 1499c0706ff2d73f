"""One review, end to end inside `reviewers/`: filter → static reviewers → model chunks →
parse (repair once) → policy filters → deduplicated findings, with an account of everything
that was not reviewed and why.

Provider errors are not handled here: a transient one (429, 529, 5xx, timeout) and a
permanent one (401, quota) both propagate, and the caller decides whether to retry the run.
A chunk whose answer stays malformed after one repair fails alone; the rest goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from reviewers.anchor import cap_comments
from reviewers.budget import Chunk, estimate_tokens, plan_chunks
from reviewers.config import ReviewConfig, Severity
from reviewers.diff import FileDiff
from reviewers.filters import filter_files
from reviewers.findings import Finding
from reviewers.output import ParsedOutput, extract_json, parse_output, repair_request
from reviewers.prompts import PROMPT_VERSION
from reviewers.providers.base import ModelProvider, ModelResponse, ProviderError
from reviewers.render import PullRequestContext, build_request, render_prompt
from reviewers.static.secrets import scan as scan_secrets
from reviewers.untrusted import contains_forbidden

__all__ = [
    "ChunkOutcome",
    "PullRequestContext",
    "ReviewResult",
    "apply_policy",
    "cap_comments",
    "review",
]

# What applies when the resolved config leaves a key unset. The app's policy layer normally
# fills every key; the offline CLI may not, and there nothing is hidden by default.
DEFAULT_MIN_SEVERITY = Severity.INFO
DEFAULT_MIN_CONFIDENCE = 0.0
# Slack on the rendered empty prompt: the system prompt and the PR's texts are rendered
# exactly, but per-chunk details (path instructions, the `partial` note) vary.
_OVERHEAD_MARGIN_TOKENS = 200

ChunkStatus = Literal["ok", "failed"]


@dataclass(frozen=True)
class ChunkOutcome:
    files: tuple[str, ...]
    status: ChunkStatus
    reason: str  # why it failed, in words for the summary; "" when ok
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    repaired: bool = False  # the first answer was malformed and the repair was used
    findings: int = 0
    dropped_invalid: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class ReviewResult:
    findings: list[Finding]
    not_reviewed: list[tuple[str, str]]
    chunks: list[ChunkOutcome] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    dropped_invalid: int = 0  # model findings that broke the schema
    dropped_filtered: int = 0  # below min severity/confidence or outside the categories
    dropped_forbidden: int = 0  # echoed a forbidden string (a key): never shown anywhere
    duplicates: int = 0  # same fingerprint as another finding of this run
    prompt_version: str = PROMPT_VERSION
    provider: str | None = None
    model: str | None = None
    files_reviewed: int = 0  # see `review`


async def review(
    files: list[FileDiff],
    *,
    config: ReviewConfig,
    provider: ModelProvider | None,
    pr: PullRequestContext,
    max_model_calls: int,
    concurrency: int = 4,
    max_output_tokens: int = 4096,
    forbidden: Sequence[str] = (),
    new_texts: Mapping[str, str] | None = None,
) -> ReviewResult:
    # Pure CPU work on hostile input runs in a thread: the event loop keeps serving the other
    # tenants' runs (and the job's deadline can fire) however long a crafted diff takes.
    kept, skipped = await asyncio.to_thread(filter_files, files, config.path_filters)
    not_reviewed = list(skipped)
    findings = await asyncio.to_thread(scan_secrets, kept)
    outcomes: list[ChunkOutcome] = []
    dropped_invalid = 0
    if provider is not None and kept:
        overhead = _prompt_overhead(pr, config)
        plan = await asyncio.to_thread(
            plan_chunks,
            kept,
            context_window=provider.context_window,
            max_output_tokens=max_output_tokens,
            prompt_overhead_tokens=overhead,
            max_calls=max_model_calls,
            path_instructions=config.path_instructions,
        )
        not_reviewed.extend(plan.not_reviewed)
        runner = _ChunkRunner(
            provider=provider,
            pr=pr,
            config=config,
            max_output_tokens=max_output_tokens,
            forbidden=list(forbidden),
            new_texts=new_texts,
            spare_calls=max(0, max_model_calls - len(plan.chunks)),
            limit=asyncio.Semaphore(max(1, concurrency)),
        )
        results = await _gather(runner, plan.chunks)
        for outcome, chunk_findings in results:
            outcomes.append(outcome)
            findings.extend(chunk_findings)
            dropped_invalid += outcome.dropped_invalid
            if not outcome.ok:
                not_reviewed.extend((path, outcome.reason) for path in outcome.files)

    allowed, dropped_filtered = apply_policy(findings, config)
    clean = [f for f in allowed if not _echoes(f, forbidden)]
    unique = _deduplicate(clean)
    model_reviewed = {p for o in outcomes if o.ok for p in o.files}
    return ReviewResult(
        findings=unique,
        not_reviewed=not_reviewed,
        chunks=outcomes,
        input_tokens=sum(o.input_tokens for o in outcomes),
        output_tokens=sum(o.output_tokens for o in outcomes),
        model_calls=sum(o.model_calls for o in outcomes),
        dropped_invalid=dropped_invalid,
        dropped_filtered=dropped_filtered,
        dropped_forbidden=len(allowed) - len(clean),
        duplicates=len(clean) - len(unique),
        provider=provider.name if provider is not None else None,
        model=provider.model if provider is not None else None,
        # With a model: files it saw, in whole or in part, in a chunk that succeeded. Without
        # one: every kept file, all of which the static reviewer read.
        files_reviewed=len(model_reviewed) if provider is not None else len(kept),
    )


def apply_policy(findings: Sequence[Finding], config: ReviewConfig) -> tuple[list[Finding], int]:
    """(findings the policy lets through, how many it filtered out)."""
    min_rank = (config.min_severity or DEFAULT_MIN_SEVERITY).rank
    min_confidence = (
        config.min_confidence if config.min_confidence is not None else DEFAULT_MIN_CONFIDENCE
    )
    categories = set(config.categories) if config.categories is not None else None
    kept = [
        f
        for f in findings
        if f.severity.rank >= min_rank
        and f.confidence >= min_confidence
        and (categories is None or f.category in categories)
    ]
    return kept, len(findings) - len(kept)


def _echoes(finding: Finding, forbidden: Sequence[str]) -> bool:
    """A finding that repeats a forbidden string (e.g. the provider key, echoed by a model
    that was tricked into it) is never stored or shown."""
    texts = (finding.path, finding.title, finding.body, finding.suggestion or "")
    return any(contains_forbidden(text, forbidden) for text in texts)


def _deduplicate(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per fingerprint: the most severe, then the most confident, then the first.
    Returned in file and line order."""
    best: dict[str, Finding] = {}
    for finding in findings:
        present = best.get(finding.fingerprint)
        if present is None or _strength(finding) > _strength(present):
            best[finding.fingerprint] = finding
    return sorted(best.values(), key=lambda f: (f.path, f.line_start, f.line_end, f.title))


def _strength(finding: Finding) -> tuple[int, float]:
    return finding.severity.rank, finding.confidence


def _prompt_overhead(pr: PullRequestContext, config: ReviewConfig) -> int:
    system, user = render_prompt([], pr, config, partial=True)
    return estimate_tokens(system) + estimate_tokens(user) + _OVERHEAD_MARGIN_TOKENS


@dataclass
class _ChunkRunner:
    provider: ModelProvider
    pr: PullRequestContext
    config: ReviewConfig
    max_output_tokens: int
    forbidden: list[str]
    new_texts: Mapping[str, str] | None
    # Calls left under the run's cap once every chunk has had its first call: repairs draw
    # on these, so the cap holds even when several answers are malformed.
    spare_calls: int
    limit: asyncio.Semaphore

    async def run(self, chunk: Chunk) -> tuple[ChunkOutcome, list[Finding]]:
        paths = tuple(chunk.paths)
        request = await asyncio.to_thread(
            build_request,
            chunk.files,
            self.pr,
            self.config,
            self.max_output_tokens,
            forbidden=self.forbidden,
            new_texts=self.new_texts,
            partial=chunk.partial,
        )
        async with self.limit:
            first = await self.provider.complete(request)
        parsed = self._parse(first)
        tokens_in, tokens_out, calls = first.input_tokens, first.output_tokens, 1
        if not parsed.malformed:
            return self._ok(paths, parsed, tokens_in, tokens_out, calls, repaired=False)
        if self.spare_calls <= 0:
            reason = (
                "the model's answer did not match the output schema "
                f"({parsed.problems[0]}), and the run's model-call limit left no call to repair it"
            )
            return self._failed(paths, reason, tokens_in, tokens_out, calls, parsed.dropped)
        self.spare_calls -= 1  # no await since the check: no other chunk can interleave
        bad_text = first.raw_text or json.dumps(first.output, default=str)
        retry = repair_request(request, bad_text, parsed.problems)
        async with self.limit:
            second = await self.provider.complete(retry)
        tokens_in += second.input_tokens
        tokens_out += second.output_tokens
        calls += 1
        repaired = self._parse(second)
        if repaired.malformed:
            reason = (
                "the model's answer did not match the output schema, even after one repair "
                f"({repaired.problems[0]})"
            )
            dropped = parsed.dropped + repaired.dropped
            return self._failed(paths, reason, tokens_in, tokens_out, calls, dropped)
        return self._ok(paths, repaired, tokens_in, tokens_out, calls, repaired=True)

    def _parse(self, response: ModelResponse) -> ParsedOutput:
        output: object = response.output
        if output is None:
            # Some compatible endpoints answer with the JSON as text; reading it saves a call.
            output = extract_json(response.raw_text or "")
        if output is None:
            return ParsedOutput(problems=["the answer contained no JSON object"])
        return parse_output(output, reviewer=f"{self.provider.name}:{response.model}")

    @staticmethod
    def _ok(
        paths: tuple[str, ...],
        parsed: ParsedOutput,
        tokens_in: int,
        tokens_out: int,
        calls: int,
        *,
        repaired: bool,
    ) -> tuple[ChunkOutcome, list[Finding]]:
        outcome = ChunkOutcome(
            files=paths,
            status="ok",
            reason="",
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            model_calls=calls,
            repaired=repaired,
            findings=len(parsed.findings),
            dropped_invalid=parsed.dropped,
        )
        return outcome, parsed.findings

    @staticmethod
    def _failed(
        paths: tuple[str, ...],
        reason: str,
        tokens_in: int,
        tokens_out: int,
        calls: int,
        dropped: int,
    ) -> tuple[ChunkOutcome, list[Finding]]:
        outcome = ChunkOutcome(
            files=paths,
            status="failed",
            reason=reason,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            model_calls=calls,
            dropped_invalid=dropped,
        )
        return outcome, []


async def _gather(
    runner: _ChunkRunner, chunks: Sequence[Chunk]
) -> list[tuple[ChunkOutcome, list[Finding]]]:
    """Run every chunk and raise a provider error itself (not an ExceptionGroup).

    A permanent error (bad key, exhausted quota) decides the run's fate, so it cancels the
    rest at once. A transient one (5xx, rate limit) lets the other chunks finish first: a
    permanent error among them must still win, and their answers are not bought twice when
    the run is retried."""
    transient: list[ProviderError] = []

    async def run(chunk: Chunk) -> tuple[ChunkOutcome, list[Finding]] | None:
        try:
            return await runner.run(chunk)
        except ProviderError as error:
            if not error.kind.transient:
                raise
            transient.append(error)
            return None

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(run(chunk)) for chunk in chunks]
    except BaseExceptionGroup as group_error:
        errors = _leaves(group_error)
        provider_errors = [e for e in errors if isinstance(e, ProviderError)]
        raise (provider_errors or errors)[0] from None
    if transient:
        raise transient[0]
    return [result for task in tasks if (result := task.result()) is not None]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            leaves.extend(_leaves(error))
        else:
            leaves.append(error)
    return leaves
