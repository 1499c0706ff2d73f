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
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from reviewers.anchor import cap_comments
from reviewers.budget import Chunk, Plan, plan_chunks, split_chunk
from reviewers.config import ReviewConfig, Severity
from reviewers.deleted import DeletedFile, deleted_files
from reviewers.diff import FileDiff
from reviewers.filters import filter_files
from reviewers.findings import Finding
from reviewers.output import (
    OUTPUT_SCHEMA,
    ParsedOutput,
    extract_json,
    parse_output,
    repair_request,
)
from reviewers.prompts import PROMPT_VERSION
from reviewers.providers.base import (
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ProviderError,
    ProviderErrorKind,
)
from reviewers.render import PullRequestContext, build_request, render_prompt
from reviewers.static.secrets import scan as scan_secrets
from reviewers.tokens import count_tokens, token_factor
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
# Slack on the rendered empty prompt: the system prompt and the PR's texts are counted
# exactly, but the random data boundary and the `partial` note vary per call.
_OVERHEAD_MARGIN_TOKENS = 50
_BOUNDARY = re.compile(r"DATA-[0-9a-f]{16}")
_COSTLIEST_BOUNDARY = "DATA-0a1b2c3d4e5f6a7b"
# What a provider adds around a request: message framing, and the system prompt Anthropic
# adds when tools are offered (~350 tokens by its documentation).
_FRAMING_TOKENS = 400

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
    estimated_input_tokens: int = 0  # what the plan priced its calls at, before any call


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
    max_input_tokens: int | None = None,
    input_limit_reason: str | None = None,
    on_plan: Callable[[Plan], Awaitable[None]] | None = None,
) -> ReviewResult:
    """`max_input_tokens`: what the run's calls may send in all (None: no limit), and
    `input_limit_reason` the words for what is left out over it (default: the run's limit);
    `on_plan` is awaited with the plan before the first call (to show the estimate)."""
    # Pure CPU work on hostile input runs in a thread: the event loop keeps serving the other
    # tenants' runs (and the job's deadline can fire) however long a crafted diff takes.
    kept, skipped = await asyncio.to_thread(filter_files, files, config.path_filters)
    removed = [f for f in files if f.status == "removed"]
    deleted = await asyncio.to_thread(deleted_files, removed, kept) if provider else []
    shown = {d.path for d in deleted}
    # A deleted file's line is in every prompt: it is not "not reviewed" when a model reads it.
    not_reviewed = [(p, r) for p, r in skipped if p not in shown]
    findings = await asyncio.to_thread(scan_secrets, kept)
    outcomes: list[ChunkOutcome] = []
    dropped_invalid = 0
    estimated_input = 0
    if provider is not None and kept:
        plan = await asyncio.to_thread(
            plan_review,
            kept,
            config=config,
            pr=pr,
            provider_name=provider.name,
            context_window=provider.context_window,
            max_output_tokens=max_output_tokens,
            max_model_calls=max_model_calls,
            max_input_tokens=max_input_tokens,
            input_limit_reason=input_limit_reason,
            new_texts=new_texts,
            deleted=deleted,
        )
        not_reviewed.extend(plan.not_reviewed)
        estimated_input = plan.estimated_input_tokens
        if on_plan is not None and plan.chunks:
            await on_plan(plan)
        runner = _ChunkRunner(
            provider=provider,
            pr=pr,
            config=config,
            max_output_tokens=max_output_tokens,
            forbidden=list(forbidden),
            new_texts=new_texts,
            deleted=deleted,
            spare_calls=max(0, max_model_calls - len(plan.chunks)),
            input_left=(
                max_input_tokens - plan.estimated_input_tokens
                if max_input_tokens is not None
                else None
            ),
            token_factor=token_factor(provider.name),
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
        estimated_input_tokens=estimated_input,
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


def request_tokens(request: ModelRequest, factor: float) -> int:
    """What a request sends, in the provider's tokens: its texts, the output schema (a tool or
    response format, counted as input) and the provider's own framing."""
    texts = (request.system, request.prompt, json.dumps(request.output_schema))
    return math.ceil(sum(map(count_tokens, texts)) * factor) + _FRAMING_TOKENS


def plan_review(
    files: Sequence[FileDiff],
    *,
    config: ReviewConfig,
    pr: PullRequestContext,
    provider_name: str,
    context_window: int,
    max_output_tokens: int,
    max_model_calls: int,
    max_input_tokens: int | None = None,
    input_limit_reason: str | None = None,
    new_texts: Mapping[str, str] | None = None,
    deleted: Sequence[DeletedFile] = (),
) -> Plan:
    """The calls a review would make, priced in the provider's tokens, without making them."""
    factor = token_factor(provider_name)
    system, user = render_prompt([], pr, config, partial=True, deleted=deleted)
    # Each call's data boundary is random, and so is its token count: priced at the most
    # 16 hex digits can cost (a token each), so that no call's prompt costs more.
    system, user = (_BOUNDARY.sub(_COSTLIEST_BOUNDARY, text) for text in (system, user))
    empty = ModelRequest(system, user, max_output_tokens, OUTPUT_SCHEMA)
    return plan_chunks(
        files,
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        prompt_overhead_tokens=request_tokens(empty, factor) + _OVERHEAD_MARGIN_TOKENS,
        max_calls=max_model_calls,
        path_instructions=config.path_instructions,
        max_input_tokens=max_input_tokens,
        input_limit_reason=input_limit_reason,
        new_texts=new_texts,
        token_factor=factor,
    )


@dataclass
class _ChunkRunner:
    provider: ModelProvider
    pr: PullRequestContext
    config: ReviewConfig
    max_output_tokens: int
    forbidden: list[str]
    new_texts: Mapping[str, str] | None
    deleted: Sequence[DeletedFile]
    # Calls left under the run's cap once every chunk has had its first call: repairs draw
    # on these, so the cap holds even when several answers are malformed.
    spare_calls: int
    limit: asyncio.Semaphore
    # Input tokens left under the run's limit once every chunk is sent (None: no limit):
    # repairs draw on these too.
    input_left: int | None = None
    token_factor: float = 1.0

    async def run(self, chunk: Chunk) -> list[tuple[ChunkOutcome, list[Finding]]]:
        """The chunk's outcome, or its parts' outcomes when the provider found it too long."""
        request = await asyncio.to_thread(self._request, chunk)
        try:
            async with self.limit:
                first = await self.provider.complete(request)
        except ProviderError as error:
            if error.kind is not ProviderErrorKind.TOO_LONG:
                raise
            return await self._in_parts(chunk, request, error)
        return [await self._answered(chunk, request, first)]

    def _request(self, chunk: Chunk) -> ModelRequest:
        return build_request(
            chunk.files,
            self.pr,
            self.config,
            self.max_output_tokens,
            forbidden=self.forbidden,
            new_texts=self.new_texts,
            partial=chunk.partial,
            deleted=self.deleted,
            definitions=chunk.definitions,
        )

    async def _in_parts(
        self, chunk: Chunk, request: ModelRequest, error: ProviderError
    ) -> list[tuple[ChunkOutcome, list[Finding]]]:
        """A chunk the provider rejected as too long (our count is below its tokenizer's):
        sent again as two halves, each of which may be halved again, never failing more than
        what cannot be made to fit. The rejected call counts against the run's call limit."""
        paths = tuple(chunk.paths)
        halves = split_chunk(chunk)
        if halves is None:
            reason = f"{error.message}, even this part alone"
            return [self._failed(paths, reason, 0, 0, 1, 0)]
        requests = await asyncio.to_thread(lambda: [self._request(half) for half in halves])
        extra = sum(request_tokens(r, self.token_factor) for r in requests) - request_tokens(
            request, self.token_factor
        )
        if self.spare_calls < len(halves):
            reason = (
                f"{error.message}, and the run's model-call limit left no calls to send it in parts"
            )
            return [self._failed(paths, reason, 0, 0, 1, 0)]
        if self.input_left is not None and extra > self.input_left:
            reason = (
                f"{error.message}, and the run's input-token limit left no room to send it in parts"
            )
            return [self._failed(paths, reason, 0, 0, 1, 0)]
        self.spare_calls -= len(halves)
        if self.input_left is not None:
            self.input_left -= max(0, extra)
        results: list[tuple[ChunkOutcome, list[Finding]]] = []
        for half in halves:
            results.extend(await self.run(half))
        first_outcome, first_findings = results[0]
        results[0] = (
            replace(first_outcome, model_calls=first_outcome.model_calls + 1),
            first_findings,
        )
        return results

    async def _answered(
        self, chunk: Chunk, request: ModelRequest, first: ModelResponse
    ) -> tuple[ChunkOutcome, list[Finding]]:
        paths = tuple(chunk.paths)
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
        bad_text = first.raw_text or json.dumps(first.output, default=str)
        retry = repair_request(request, bad_text, parsed.problems)
        cost = request_tokens(retry, self.token_factor)
        if self.input_left is not None and cost > self.input_left:
            reason = (
                "the model's answer did not match the output schema "
                f"({parsed.problems[0]}), and the run's input-token limit left no room to "
                "repair it"
            )
            return self._failed(paths, reason, tokens_in, tokens_out, calls, parsed.dropped)
        # No await since the checks: no other chunk can interleave.
        self.spare_calls -= 1
        if self.input_left is not None:
            self.input_left -= cost
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

    async def run(chunk: Chunk) -> list[tuple[ChunkOutcome, list[Finding]]] | None:
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
    return [outcome for task in tasks for outcome in task.result() or ()]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            leaves.extend(_leaves(error))
        else:
            leaves.append(error)
    return leaves
