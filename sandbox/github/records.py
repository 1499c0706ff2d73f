"""The records the GitHub fake keeps: what was arranged, issued, sent and asked of it."""

from __future__ import annotations

from dataclasses import dataclass
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
    commits: int = 1


@dataclass
class IssueComment:
    id: int
    repository: Repository
    issue_number: int
    body: str
    user_login: str
    created_at: datetime


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
