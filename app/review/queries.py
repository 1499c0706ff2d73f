"""The review job's transactions, in plain SQL on the driver (app/direct_db.py says why).

Four transactions per review, each in the run's workspace:
  claim    the run, its repository and installation, marked `running`; with everything the
           review reads before it starts (policy layers, quota used, keys, earlier findings);
  freeze   the policy snapshot stored on the run, only while it is still `running`;
  store    the findings and metrics, only while the run is still `running`, with the
           fingerprints earlier runs of the PR posted;
  finish   where each finding was posted, usage records, blocked-output events, `completed`.
Every statement names the workspace itself; RLS (scoped by DirectDatabase.tenant) backs it.
The policy layers are read by the ORM elsewhere (app/policy/resolve.py, for drafts and the
tests); both feed the same pure `snapshot_from`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.types.json import Jsonb

from app.direct_db import DirectDatabase, instance, select_list, width
from app.github.provider import GITHUB
from app.models import Finding, Installation, ProviderKey, Repository, Run, RunStatus
from app.models.review import TERMINAL_RUN_STATUSES
from app.policy.resolve import DEFAULT_POLICY_NAME, PolicySources
from app.publish.guard import Withheld
from app.review.errors import RunStopped
from app.usage.records import RunUsage, usage_rows

INCREMENTAL_TRIGGERS = frozenset({"pull_request.synchronize", "issue_comment.review"})
# Subscriptions in these states grant their plan (as app/policy/resolve.py `_plan`).
_GRANTING = ("active", "trialing", "past_due")

_RUN_REPOSITORY_INSTALLATION = f"""
SELECT {select_list(Run, "r")}, {select_list(Repository, "p")}, {select_list(Installation, "i")}
FROM runs r
LEFT JOIN repositories p ON p.id = r.repository_id AND p.workspace_id = r.workspace_id
LEFT JOIN installations i ON i.id = p.installation_id AND i.workspace_id = r.workspace_id
WHERE r.workspace_id = %(workspace)s AND r.id = %(run)s
"""  # noqa: S608 - column names of the models

_MARK_RUNNING = """
UPDATE runs SET status = 'running', status_reason = NULL,
    started_at = coalesce(started_at, now()), updated_at = now()
WHERE workspace_id = %(workspace)s AND id = %(run)s AND status IN ('queued', 'running')
RETURNING id
"""

# Claims of one workspace take turns (until their transaction ends): each counts the runs
# the others marked running, so concurrent runs cannot all fit in the last review left.
_QUOTA_LOCK = "SELECT pg_advisory_xact_lock(%(key)s)"

# Model input tokens spent this month: recorded, and the answers kept for runs not yet
# recorded (a run records its usage when it finishes). The review's claim and the cost
# preview both count this way.
_INPUT_TOKENS = """(
        SELECT coalesce(sum(u.quantity), 0) FROM usage_records u
        WHERE u.workspace_id = %(workspace)s AND u.type = 'llm_input_tokens'
          AND u.created_at >= %(month_start)s
    ) + (
        SELECT coalesce(sum(m.input_tokens), 0) FROM run_model_responses m
        WHERE m.workspace_id = %(workspace)s AND m.created_at >= %(month_start)s
          AND NOT EXISTS (
            SELECT 1 FROM usage_records u
            WHERE u.workspace_id = m.workspace_id AND u.run_id = m.run_id
              AND u.type = 'llm_input_tokens'
          )
    )"""
INPUT_TOKENS_THIS_MONTH = f"SELECT {_INPUT_TOKENS}"


def month_start() -> datetime:
    """The start of this calendar month, UTC: where monthly quotas and budgets count from."""
    return datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# The policy layers and, when the plan limits reviews, the reviews used this month (those
# recorded, and those under way in other runs, which record theirs when they finish), and when
# the policy sets a monthly token budget, the input tokens spent this month (recorded, and the
# answers kept for runs not yet recorded): one round trip.
_POLICY_SOURCES = f"""
SELECT plan.name, plan.limits, policy.name, policy.version, policy.config, setting.settings,
    CASE WHEN plan.limits ->> 'reviews_per_month' IS NOT NULL THEN (
        SELECT count(*) FROM usage_records u
        WHERE u.workspace_id = %(workspace)s AND u.type = 'review'
          AND u.created_at >= %(month_start)s
    ) + (
        SELECT count(*) FROM runs other
        WHERE other.workspace_id = %(workspace)s AND other.status = 'running'
          AND other.id <> %(run)s AND other.started_at >= %(month_start)s
          AND NOT EXISTS (
            SELECT 1 FROM usage_records u
            WHERE u.workspace_id = other.workspace_id AND u.run_id = other.id
              AND u.type = 'review'
          )
    ) END,
    CASE WHEN policy.config ->> 'monthly_input_tokens' IS NOT NULL THEN {_INPUT_TOKENS} END
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT plans.name, plans.limits FROM subscriptions s JOIN plans ON plans.id = s.plan_id
    WHERE s.workspace_id = %(workspace)s AND s.status = ANY(%(granting)s) LIMIT 1
) AS plan ON true
LEFT JOIN LATERAL (
    SELECT name, version, config FROM policies
    WHERE workspace_id = %(workspace)s AND name = %(policy)s ORDER BY version DESC LIMIT 1
) AS policy ON true
LEFT JOIN LATERAL (
    SELECT settings FROM repository_settings
    WHERE workspace_id = %(workspace)s AND repository_id = %(repository)s
) AS setting ON true
"""  # noqa: S608 - a constant fragment; every value is bound

_KEYS = f"""
SELECT {select_list(ProviderKey, "k")} FROM provider_keys k
WHERE k.workspace_id = %(workspace)s ORDER BY k.provider
"""  # noqa: S608 - column names of the models

# The head of the PR's most recent completed run on another commit (incremental reviews).
_LATEST_REVIEWED_HEAD = """
SELECT head_sha FROM runs
WHERE workspace_id = %(workspace)s AND repository_id = %(repository)s
  AND pull_request_number = %(number)s AND status = 'completed' AND head_sha <> %(head)s
ORDER BY completed_at DESC LIMIT 1
"""

_FINDINGS_OF_RUN = f"""
SELECT {select_list(Finding, "f")} FROM findings f
WHERE f.workspace_id = %(workspace)s AND f.run_id = %(run)s ORDER BY f.created_at
"""  # noqa: S608 - column names of the models

_FREEZE_SNAPSHOT = """
UPDATE runs SET policy_snapshot = %(snapshot)s, updated_at = now()
WHERE workspace_id = %(workspace)s AND id = %(run)s AND status = 'running'
RETURNING id
"""

_STORE_METRICS = """
UPDATE runs SET metrics = %(metrics)s, updated_at = now()
WHERE workspace_id = %(workspace)s AND id = %(run)s AND status = 'running'
RETURNING id
"""

_FINDING_COLUMNS = [column for column in Finding.__table__.columns if column.name != "created_at"]
_INSERT_FINDING = "INSERT INTO findings ({}) VALUES ({})".format(  # noqa: S608 - model columns
    ", ".join(c.name for c in _FINDING_COLUMNS), ", ".join("%s" for _ in _FINDING_COLUMNS)
)
_FINDING_ATTRIBUTES = [
    Finding.__mapper__.get_property_by_column(column).key for column in _FINDING_COLUMNS
]

# Fingerprints of findings earlier runs of this PR actually posted (inline or in the summary).
_POSTED_FINGERPRINTS = """
SELECT DISTINCT f.metadata ->> 'fingerprint'
FROM findings f
JOIN runs r ON r.id = f.run_id AND r.workspace_id = f.workspace_id
JOIN annotations a ON a.finding_id = f.id AND a.workspace_id = f.workspace_id
WHERE f.workspace_id = %(workspace)s AND r.repository_id = %(repository)s
  AND r.pull_request_number = %(number)s AND r.id <> %(run)s
"""

_INSERT_ANNOTATION = """
INSERT INTO annotations (workspace_id, finding_id, provider_id, type, external_id)
VALUES (%s, %s, (SELECT id FROM providers WHERE slug = %s), %s, %s)
ON CONFLICT (finding_id, type) DO NOTHING
"""

_INSERT_USAGE = """
INSERT INTO usage_records (workspace_id, run_id, repository_id, type, quantity, model, metadata)
VALUES (%(workspace_id)s, %(run_id)s, %(repository_id)s, %(type)s, %(quantity)s, %(model)s,
    %(metadata)s)
ON CONFLICT (run_id, type) DO NOTHING
"""

_INSERT_AUDIT_EVENT = """
INSERT INTO audit_events (workspace_id, actor_type, actor_id, action, resource_type,
    resource_id, metadata)
VALUES (%(workspace)s, 'system', 'review', 'publish.blocked', 'run', %(run)s, %(metadata)s)
"""

_COMPLETE = """
UPDATE runs SET status = 'completed', completed_at = now(), metrics = %(metrics)s,
    updated_at = now()
WHERE workspace_id = %(workspace)s AND id = %(run)s AND status = 'running'
"""


@dataclass
class Claimed:
    """A run this executor now holds `running`, with what the review reads up front."""

    run: Run
    repository: Repository
    installation: Installation
    # No executor has started this run before: nothing of it can be on GitHub yet.
    first_execution: bool
    sources: PolicySources
    # Reviews recorded this month; None when the plan does not limit them.
    reviews_this_month: int | None
    # Model input tokens spent this month; None when the policy sets no monthly budget.
    input_tokens_this_month: int | None
    keys: list[ProviderKey]
    # The head of the PR's last completed review (incremental triggers only).
    since_head: str | None
    # Findings an earlier attempt of this run already stored.
    stored_findings: list[Finding]

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.run.workspace_id

    @property
    def out_of_reviews(self) -> bool:
        """The plan limits reviews a month, and this month's are used up."""
        limit = self.sources.plan_limits.get("reviews_per_month")
        return limit is not None and (self.reviews_this_month or 0) >= int(limit)


async def claim(
    db: DirectDatabase, workspace_id: uuid.UUID, run_id: uuid.UUID, *, mark_running: bool
) -> Claimed | str:
    """One transaction: the run, read in `workspace_id` only, marked `running` (unless not
    `mark_running`), and what its review reads. A word instead when there is nothing to do:
    `missing`, the run's terminal status, or `finished` (someone else ended it).

    Two round trips: the run first (what follows depends on it), then the rest together."""
    ids = {"workspace": workspace_id, "run": run_id}
    async with db.tenant(workspace_id) as connection:
        row = await _one(connection, _RUN_REPOSITORY_INSTALLATION, ids)
        if row is None:
            return "missing"
        run = instance(Run, row)
        if run.status in TERMINAL_RUN_STATUSES:
            return run.status
        if row[width(Run)] is None or row[width(Run) + width(Repository)] is None:
            raise LookupError(f"run {run_id} lost its repository or installation")
        first_execution = run.started_at is None
        marked = None
        if mark_running:
            await connection.execute(_QUOTA_LOCK, {"key": quota_lock_key(workspace_id)})
            marked = await connection.execute(_MARK_RUNNING, ids)
        inputs = await _ReviewInputs.send(connection, run, first_execution)
    if marked is not None and await marked.fetchone() is None:
        return "finished"
    return Claimed(
        run=run,
        repository=instance(Repository, row, width(Run)),
        installation=instance(Installation, row, width(Run) + width(Repository)),
        first_execution=first_execution,
        **await inputs.read(),
    )


@dataclass
class _ReviewInputs:
    """The reads of `claim` after the run, sent together; read back after the commit."""

    sources: AsyncCursor[Any]
    keys: AsyncCursor[Any]
    since: AsyncCursor[Any] | None
    stored: AsyncCursor[Any] | None

    @classmethod
    async def send(
        cls, connection: AsyncConnection[Any], run: Run, first_execution: bool
    ) -> _ReviewInputs:
        workspace = run.workspace_id
        sources = await connection.execute(
            _POLICY_SOURCES,
            {
                "workspace": workspace,
                "repository": run.repository_id,
                "policy": DEFAULT_POLICY_NAME,
                "granting": list(_GRANTING),
                "month_start": month_start(),
                "run": run.id,
            },
        )
        keys = await connection.execute(_KEYS, {"workspace": workspace})
        since = None
        if run.trigger in INCREMENTAL_TRIGGERS:
            since = await connection.execute(
                _LATEST_REVIEWED_HEAD,
                {
                    "workspace": workspace,
                    "repository": run.repository_id,
                    "number": run.pull_request_number,
                    "head": run.head_sha,
                },
            )
        stored = None
        if not first_execution:
            stored = await connection.execute(
                _FINDINGS_OF_RUN, {"workspace": workspace, "run": run.id}
            )
        return cls(sources, keys, since, stored)

    async def read(self) -> dict[str, Any]:
        row = await self.sources.fetchone()
        assert row is not None  # noqa: S101 - the query always returns its one row
        plan_name, limits, policy_name, policy_version, policy_config, settings, used, tokens = row
        head = await self.since.fetchone() if self.since is not None else None
        stored = await self.stored.fetchall() if self.stored is not None else []
        return {
            "sources": PolicySources(
                plan_name=plan_name,
                plan_limits=dict(limits or {}),
                policy_name=policy_name,
                policy_version=policy_version,
                policy_config=policy_config,
                repository_settings=settings,
            ),
            "reviews_this_month": used,
            "input_tokens_this_month": int(tokens) if tokens is not None else None,
            "keys": [instance(ProviderKey, key) for key in await self.keys.fetchall()],
            "since_head": head[0] if head else None,
            "stored_findings": [instance(Finding, found) for found in stored],
        }


async def freeze_snapshot(
    db: DirectDatabase, workspace_id: uuid.UUID, run_id: uuid.UUID, snapshot: dict[str, Any]
) -> None:
    """Stored on the run before any model call; raises RunStopped when the run is no longer
    `running` (this stands for the check before the first model call)."""
    async with db.tenant(workspace_id) as connection:
        frozen = await connection.execute(
            _FREEZE_SNAPSHOT,
            {"workspace": workspace_id, "run": run_id, "snapshot": Jsonb(snapshot)},
        )
    # Read after the commit (one round trip): when nothing was updated, nothing was written.
    if await frozen.fetchone() is None:
        raise RunStopped("the run was stopped before it was reviewed")


async def store_findings(
    db: DirectDatabase, run: Run, rows: list[Finding], metrics: dict[str, Any]
) -> set[str]:
    """The findings and metrics, only while the run is still wanted (a push, a pause or a
    closed PR meanwhile: nothing is stored, posted or billed); returns the fingerprints
    earlier runs of the PR posted."""
    workspace = run.workspace_id
    async with db.tenant(workspace) as connection:
        ids = {"workspace": workspace, "run": run.id}
        wanted = await connection.execute(_STORE_METRICS, {**ids, "metrics": Jsonb(metrics)})
        if rows:
            async with connection.cursor() as cursor:
                await cursor.executemany(_INSERT_FINDING, [_finding_values(r) for r in rows])
        posted = await _send_posted_fingerprints(connection, run)
        # One round trip for all of the above; a stopped run rolls the findings back.
        if await wanted.fetchone() is None:
            raise RunStopped("the run was stopped while it was reviewed")
    return await _read_posted_fingerprints(posted)


async def posted_fingerprints_if_running(db: DirectDatabase, run: Run) -> set[str]:
    """For a run whose findings an earlier attempt stored: still `running`?"""
    async with db.tenant(run.workspace_id) as connection:
        status = await _one(
            connection,
            "SELECT status FROM runs WHERE workspace_id = %(workspace)s AND id = %(run)s",
            {"workspace": run.workspace_id, "run": run.id},
        )
        if status is None or status[0] != RunStatus.RUNNING:
            raise RunStopped(f"run is {status[0] if status else 'missing'}")
        posted = await _send_posted_fingerprints(connection, run)
    return await _read_posted_fingerprints(posted)


async def _send_posted_fingerprints(connection: AsyncConnection[Any], run: Run) -> AsyncCursor[Any]:
    return await connection.execute(
        _POSTED_FINGERPRINTS,
        {
            "workspace": run.workspace_id,
            "repository": run.repository_id,
            "number": run.pull_request_number,
            "run": run.id,
        },
    )


async def _read_posted_fingerprints(cursor: AsyncCursor[Any]) -> set[str]:
    return {value for (value,) in await cursor.fetchall() if value}


def _finding_values(row: Finding) -> list[Any]:
    values = [getattr(row, attribute) for attribute in _FINDING_ATTRIBUTES]
    return [Jsonb(v) if isinstance(v, dict) else v for v in values]


async def finish(
    db: DirectDatabase,
    run: Run,
    *,
    annotations: list[tuple[uuid.UUID, str, str | None]],
    withheld: list[Withheld],
    usage: RunUsage,
    metrics: dict[str, Any],
) -> None:
    """Where each finding was posted (once each, however often the job runs), what was not
    posted (and why), the usage records (once per run and type), and the run
    `completed`: one transaction."""
    workspace = run.workspace_id
    async with db.tenant(workspace) as connection, connection.cursor() as cursor:
        if annotations:
            await cursor.executemany(
                _INSERT_ANNOTATION,
                [
                    (workspace, finding, GITHUB, kind, external)
                    for finding, kind, external in annotations
                ],
            )
        for item in withheld:
            await cursor.execute(
                _INSERT_AUDIT_EVENT,
                {
                    "workspace": workspace,
                    "run": str(run.id),
                    "metadata": Jsonb({"what": item.what, "why": item.why}),
                },
            )
        rows = usage_rows(workspace, usage)
        await cursor.executemany(
            _INSERT_USAGE, [{**row, "metadata": Jsonb(row["metadata"])} for row in rows]
        )
        await cursor.execute(
            _COMPLETE, {"workspace": workspace, "run": run.id, "metrics": Jsonb(metrics)}
        )


def quota_lock_key(workspace_id: uuid.UUID) -> int:
    """The advisory lock of one workspace's review quota (its own namespace by hashing)."""
    digest = hashlib.blake2b(f"sentinel:quota:{workspace_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def summary_lock_key(repository_id: uuid.UUID, pull_request_number: int) -> int:
    """The advisory lock of one PR's summary comment (64 bits of a hash: its own namespace,
    apart from the run locks, which are a run id's first 64 bits)."""
    digest = hashlib.blake2b(
        f"sentinel:summary:{repository_id}:{pull_request_number}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass
class SummaryTurn:
    """A run's turn at its PR's summary comment (see `summary_turn`)."""

    current: bool  # the run is still the PR's newest: it may write the summary
    comment_id: int | None  # the summary comment posted before, if Sentinel knows it
    _connection: AsyncConnection[Any]
    _run: Run

    async def remember(self, comment_id: int) -> None:
        """Keep the comment's id on the pull request, in the turn's transaction."""
        if comment_id == self.comment_id:
            return
        await self._connection.execute(
            "UPDATE pull_requests SET summary_comment_id = %(comment)s, updated_at = now() "
            "WHERE workspace_id = %(workspace)s AND repository_id = %(repository)s "
            "AND number = %(number)s",
            {"comment": comment_id, "workspace": self._run.workspace_id,
             "repository": self._run.repository_id, "number": self._run.pull_request_number},
        )  # fmt: skip


@asynccontextmanager
async def summary_turn(db: DirectDatabase, run: Run) -> AsyncIterator[SummaryTurn]:
    """This run's turn to write its PR's summary comment: True while it is still `running`.

    One PR, one summary comment, updated in place; and only by a run that is still current.
    Two runs of a PR (an old head finishing while a new one publishes) would otherwise both
    find no comment and both create one, or the older overwrite the newer. A transaction-level
    advisory lock per PR makes the find-or-create one step, and the status is read under it:
    intake supersedes the older run in the same transaction that creates the newer, so a run
    that reads `running` here is still the newest, and a superseded one posts nothing."""
    async with db.tenant(run.workspace_id) as connection:
        await connection.execute(
            "SELECT pg_advisory_xact_lock(%(key)s)",
            {"key": summary_lock_key(run.repository_id, run.pull_request_number)},
        )
        row = await _one(
            connection,
            "SELECT r.status, p.summary_comment_id FROM runs r LEFT JOIN pull_requests p "
            "ON p.workspace_id = r.workspace_id AND p.repository_id = r.repository_id "
            "AND p.number = r.pull_request_number "
            "WHERE r.workspace_id = %(workspace)s AND r.id = %(run)s",
            {"workspace": run.workspace_id, "run": run.id},
        )
        current = row is not None and row[0] == RunStatus.RUNNING
        known = int(row[1]) if row is not None and row[1] is not None else None
        yield SummaryTurn(current, known, connection, run)


async def _one(
    connection: AsyncConnection[Any], query: str, params: dict[str, Any]
) -> tuple[Any, ...] | None:
    cursor = await connection.execute(query, params)
    return await cursor.fetchone()
