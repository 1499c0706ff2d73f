"""The policy snapshot: what applies to one run, resolved once and frozen on the run.

Order (later layers override earlier ones, key by key):
  plan limits → the workspace's `default` policy (newest version) → repository settings →
  `.sentinel.yml` from the pull request's BASE branch.
The repository file may set only review-content keys (reviewers.config.ReviewConfig); a key
it may not set, or an invalid value, is reported in the summary and ignored, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Plan, Policy, RepositorySettings, Subscription
from app.policy.documents import PolicyDocument, RepositorySettingsDocument
from app.repository import WorkspaceRepository
from reviewers.config import HARD_MAX_COMMENTS, REPOSITORY_FILE_KEYS, ReviewConfig, Severity

DEFAULT_POLICY_NAME = "default"
REPOSITORY_FILE = ".sentinel.yml"
MAX_REPOSITORY_FILE_BYTES = 64 * 1024

# What applies when no layer says otherwise.
DEFAULTS = ReviewConfig(
    enabled=True,
    drafts=False,
    path_filters=[],
    path_instructions=[],
    instructions="",
    min_severity=Severity.INFO,
    min_confidence=0.5,
    max_comments=25,
    categories=None,
    incremental=True,
)
DEFAULT_MAX_COMMENTS_CAP = 50
DEFAULT_MAX_MODEL_CALLS = 20
DEFAULT_MAX_INPUT_TOKENS = 400_000


class SnapshotLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    reviews_per_month: int | None
    repositories: int | None
    files_per_review: int | None
    max_model_calls: int
    max_input_tokens: int
    max_comments_cap: int
    # The workspace's model input tokens per calendar month (UTC); None: no budget.
    monthly_input_tokens: int | None = None


class PolicySnapshot(BaseModel):
    """Frozen on the run before any model call; every comment traces back to it."""

    model_config = ConfigDict(frozen=True)

    plan: str
    policy_name: str | None
    policy_version: int | None
    review: ReviewConfig  # every key resolved (no None left but `categories` = all)
    provider: str | None
    model: str | None
    limits: SnapshotLimits
    fail_on_critical: bool
    request_changes: bool
    sources: dict[str, str]  # key → which layer set it
    repository_file: str  # "absent", "applied" or "invalid"
    repository_file_errors: list[str]

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def stored(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "hash": self.digest}


def parse_repository_file(text: str | None) -> tuple[dict[str, Any], list[str]]:
    """The valid review-content keys of a `.sentinel.yml`, and what was wrong with the rest.

    Each key is validated on its own so one bad key costs only itself."""
    if text is None:
        return {}, []
    if len(text.encode()) > MAX_REPOSITORY_FILE_BYTES:
        return {}, [f"{REPOSITORY_FILE} is larger than {MAX_REPOSITORY_FILE_BYTES} bytes"]
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return {}, [f"{REPOSITORY_FILE} is not valid YAML{where}"]
    if document is None:
        return {}, []
    if not isinstance(document, dict):
        return {}, [f"{REPOSITORY_FILE} must be a mapping of keys to values"]
    accepted: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in document.items():
        if key not in REPOSITORY_FILE_KEYS:
            errors.append(
                f"`{key}` cannot be set in {REPOSITORY_FILE}"
                + (
                    " (only workspace admins choose providers, models, keys and budgets)"
                    if str(key) in {"provider", "model", "base_url", "api_key", "max_model_calls"}
                    else ""
                )
            )
            continue
        try:
            ReviewConfig.model_validate({key: value})
        except ValidationError as error:
            problem = error.errors()[0]
            errors.append(f"`{key}`: {problem['msg']}")
            continue
        accepted[key] = value
    return accepted, errors


class _Policies(WorkspaceRepository[Policy]):
    model = Policy


class _Settings(WorkspaceRepository[RepositorySettings]):
    model = RepositorySettings


class _Subscriptions(WorkspaceRepository[Subscription]):
    model = Subscription


async def _plan(session: AsyncSession, workspace_id: uuid.UUID) -> Plan | None:
    subscriptions = _Subscriptions(session, workspace_id)
    statement = (
        subscriptions.select(Plan)
        .select_from(Subscription)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.status.in_(("active", "trialing", "past_due")))
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True)
class PolicySources:
    """The database's layers of a snapshot, read before `.sentinel.yml` is known."""

    plan_name: str | None  # None: no active subscription
    plan_limits: dict[str, Any]
    policy_name: str | None  # None: the workspace has no `default` policy yet
    policy_version: int | None
    policy_config: dict[str, Any] | None
    repository_settings: dict[str, Any] | None


async def load_policy_sources(
    session: AsyncSession, workspace_id: uuid.UUID, repository_id: uuid.UUID
) -> PolicySources:
    plan = await _plan(session, workspace_id)
    policies = _Policies(session, workspace_id)
    policy = (
        await session.execute(
            policies.select()
            .where(Policy.name == DEFAULT_POLICY_NAME)
            .order_by(Policy.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    settings_row = (
        await session.execute(
            _Settings(session, workspace_id)
            .select()
            .where(RepositorySettings.repository_id == repository_id)
        )
    ).scalar_one_or_none()
    return PolicySources(
        plan_name=plan.name if plan else None,
        plan_limits=dict(plan.limits) if plan else {},
        policy_name=policy.name if policy else None,
        policy_version=policy.version if policy else None,
        policy_config=policy.config if policy else None,
        repository_settings=settings_row.settings if settings_row else None,
    )


async def resolve_snapshot(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    repository_id: uuid.UUID,
    repository_file: str | None,
) -> PolicySnapshot:
    return snapshot_from(
        await load_policy_sources(session, workspace_id, repository_id), repository_file
    )


def snapshot_from(layers: PolicySources, repository_file: str | None) -> PolicySnapshot:
    """The layers merged, key by key (pure: the review job reads the sources its own way)."""
    plan_limits = layers.plan_limits
    policy_doc = (
        PolicyDocument.model_validate(layers.policy_config)
        if layers.policy_config is not None
        else PolicyDocument()
    )
    settings_doc = (
        RepositorySettingsDocument.model_validate(layers.repository_settings)
        if layers.repository_settings is not None
        else RepositorySettingsDocument()
    )
    file_keys, file_errors = parse_repository_file(repository_file)

    values: dict[str, Any] = DEFAULTS.model_dump()
    sources = dict.fromkeys(values, "default")
    for layer, document in (
        ("policy", policy_doc.model_dump(include=set(REPOSITORY_FILE_KEYS), exclude_none=True)),
        ("repository settings", settings_doc.model_dump(
            include=set(REPOSITORY_FILE_KEYS), exclude_none=True
        )),
        (REPOSITORY_FILE, file_keys),
    ):  # fmt: skip
        for key, value in document.items():
            values[key] = value
            sources[key] = layer

    cap = (
        policy_doc.max_comments_cap
        if policy_doc.max_comments_cap is not None
        else (DEFAULT_MAX_COMMENTS_CAP)
    )
    if values["max_comments"] > cap:
        if sources["max_comments"] == REPOSITORY_FILE:
            file_errors.append(f"`max_comments`: {values['max_comments']} is above the cap {cap}")
        values["max_comments"] = min(values["max_comments"], cap, HARD_MAX_COMMENTS)

    return PolicySnapshot(
        plan=layers.plan_name or "none",
        policy_name=layers.policy_name,
        policy_version=layers.policy_version,
        review=ReviewConfig.model_validate(values),
        provider=settings_doc.provider or policy_doc.provider,
        model=settings_doc.model or policy_doc.model,
        limits=SnapshotLimits(
            reviews_per_month=plan_limits.get("reviews_per_month"),
            repositories=plan_limits.get("repositories"),
            files_per_review=plan_limits.get("files_per_review"),
            max_model_calls=policy_doc.max_model_calls or DEFAULT_MAX_MODEL_CALLS,
            max_input_tokens=policy_doc.max_input_tokens or DEFAULT_MAX_INPUT_TOKENS,
            max_comments_cap=cap,
            monthly_input_tokens=policy_doc.monthly_input_tokens,
        ),
        fail_on_critical=bool(policy_doc.fail_on_critical),
        request_changes=bool(policy_doc.request_changes),
        sources=sources,
        repository_file=(
            "absent" if repository_file is None else "invalid" if file_errors else "applied"
        ),
        repository_file_errors=file_errors,
    )
