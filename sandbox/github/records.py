"""The records the GitHub fake keeps: what was arranged, issued, sent and asked of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Installation:
    id: int
    account_login: str
    account_type: str
    account_id: int
    permissions: dict[str, str]
    events: list[str]
    repository_selection: str
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None = None


@dataclass
class Repository:
    id: int
    owner: str
    name: str
    owner_id: int
    owner_type: str
    installation_id: int | None
    default_branch: str
    private: bool
    created_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class PullRequest:
    repository: Repository
    number: int
    id: int
    head_sha: str
    base_sha: str
    head_ref: str
    base_ref: str
    title: str
    body: str | None
    user_login: str
    draft: bool
    files: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    merged: bool = False


@dataclass
class IssueComment:
    id: int
    repository: Repository
    issue_number: int
    body: str
    user_login: str
    created_at: datetime
    user_type: str = "User"
    updated_at: datetime | None = None
    # The App that wrote it through its installation (`performed_via_github_app`), if any.
    app_id: int | None = None


@dataclass
class Commit:
    """A commit the fake knows. `files` are its changes against its parent, in the shape of
    the files API (`filename`, `status`, `patch`...); `contents` are the full texts it wrote
    (None: the file was deleted), when a test gave them. The tree at a commit is the
    `contents` of it and of its ancestors, nearest first."""

    sha: str
    parent: str | None
    message: str
    author_name: str
    author_email: str
    author_login: str | None
    date: datetime
    files: list[dict[str, Any]] = field(default_factory=list)
    contents: dict[str, bytes | None] = field(default_factory=dict)


@dataclass
class CheckRun:
    id: int
    repository: Repository
    app_id: int
    check_suite_id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    external_id: str | None
    details_url: str | None
    started_at: datetime | None
    completed_at: datetime | None
    # {"title", "summary", "text"}: all None until an output is sent.
    output: dict[str, str | None]
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Review:
    id: int
    repository: Repository
    pull_number: int
    user_login: str
    body: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING
    commit_id: str
    submitted_at: datetime | None
    user_type: str = "Bot"


@dataclass
class ReviewComment:
    id: int
    review_id: int
    repository: Repository
    pull_number: int
    user_login: str
    body: str
    path: str
    commit_id: str
    line: int | None
    side: str | None
    start_line: int | None
    start_side: str | None
    position: int | None
    diff_hunk: str
    created_at: datetime
    user_type: str = "Bot"
    subject_type: str = "line"  # or "file": a comment on the whole file


@dataclass
class IssuedToken:
    token: str
    installation_id: int
    permissions: dict[str, str]
    # None: every repository of the installation, as it is at the time of each request.
    repository_ids: list[int] | None
    created_at: datetime
    expires_at: datetime
    revoked: bool = False


@dataclass
class DeliveryRecord:
    """One attempt to deliver a webhook, as `GET /app/hook/deliveries/{id}` shows it."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    delivered_at: datetime
    redelivery: bool
    duration: float
    status: str
    status_code: int
    url: str
    body: bytes
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    response_body: str


@dataclass
class Fault:
    path_prefix: str
    status: int
    remaining: int
    headers: dict[str, str]
    body: Any
    method: str | None
    # "primary" / "secondary": a rate-limit answer whose message names the caller.
    rate_limit: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    # Lower-case names; Authorization keeps only its scheme ("token ***", "Bearer ***").
    headers: dict[str, str]
    json: Any


@dataclass
class RateLimitBucket:
    """GitHub's primary (hourly) budget of one caller, as the x-ratelimit-* headers show it."""

    limit: int
    used: int
    reset_at: int  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)
