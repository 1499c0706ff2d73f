"""Everything the GitHub fake knows, in plain dicts and lists.

One `GitHubState` is one GitHub App on one GitHub: its key, its installations, their
repositories and pull requests, the tokens it was issued, the webhooks it sent, and the knobs a
test turns to make GitHub misbehave. The HTTP layer (`app.py`) and the webhook sender
(`webhooks.py`) read and write it; tests arrange it directly and assert on what it recorded.
Everything runs on one event loop, so no locks: mutations never span an `await`.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.github.records import (
    DeliveryRecord,
    Fault,
    Installation,
    IssueComment,
    IssuedToken,
    PullRequest,
    RateLimitBucket,
    RecordedRequest,
    Repository,
)

# What github-app.yml asks for; an installation grants these unless a test says otherwise.
DEFAULT_PERMISSIONS: dict[str, str] = {
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}
DEFAULT_EVENTS = ["check_run", "issue_comment", "pull_request", "repository"]
FILE_STATUSES = {"added", "removed", "modified", "renamed", "copied", "changed", "unchanged"}
TOKEN_LIFETIME = timedelta(hours=1)
# GitHub's REST budgets per hour: installations (non-Enterprise) and unauthenticated callers.
INSTALLATION_RATE_LIMIT = 5000
ANONYMOUS_RATE_LIMIT = 60


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class GitHubState:
    def __init__(
        self,
        *,
        app_id: int = 424242,
        slug: str = "sentinel-test",
        name: str = "Sentinel (test)",
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        owner_login: str = "sentinel-dev",
    ) -> None:
        self.app_id = app_id
        self.slug = slug
        self.name = name
        self.owner_login = owner_login
        self.webhook_secret = webhook_secret or secrets.token_hex(20)
        self.webhook_url = webhook_url
        self.hook_id = 400_000_000 + app_id
        # GitHub waits 10 s for the receiver's answer before it gives up on a delivery.
        self.webhook_timeout = 10.0
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # PKCS#1, the format of the .pem GitHub lets an App owner download.
        self.private_key_pem: str = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        self.public_key = self.private_key.public_key()
        # The address `serve_github` serves on; webhook payloads carry URLs built from it.
        self.base_url = "https://api.github.com"
        self.html_url = "https://github.com"
        self.created_at = _utcnow()
        self.clock_offset = timedelta()

        self.installations: dict[int, Installation] = {}
        self.repositories: dict[tuple[str, str], Repository] = {}
        self.pull_requests: dict[tuple[str, str, int], PullRequest] = {}
        self.issue_comments: dict[int, IssueComment] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.issued_tokens: list[IssuedToken] = []
        # {"id", "repository" (full name), "comment_id", "content", "user_login", "created_at"}
        self.reactions: list[dict[str, Any]] = []
        self.deliveries: list[DeliveryRecord] = []
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.rate_limits: dict[str, RateLimitBucket] = {}
        # Content-creating requests per caller, for the secondary limit (80 a minute).
        self.secondary_writes_per_minute = 80
        self.write_times: dict[str, list[datetime]] = {}
        self.user_ids: dict[str, int] = {}

        self._ids = itertools.count(1000)
        self._delivery_ids = itertools.count(90_000_000_001)

    # -- clock ---------------------------------------------------------------------------

    def now(self) -> datetime:
        """GitHub's clock: real time plus `clock_offset`, so tests can expire tokens."""
        return _utcnow() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        self.clock_offset += timedelta(seconds=seconds)

    # -- arranging the world -------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def next_delivery_id(self) -> int:
        return next(self._delivery_ids)

    def user_id(self, login: str) -> int:
        key = login.lower()
        if key not in self.user_ids:
            self.user_ids[key] = self.next_id()
        return self.user_ids[key]

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    def add_installation(
        self,
        installation_id: int,
        account_login: str,
        account_type: str = "Organization",
        repositories: Iterable[str] = (),
        *,
        permissions: Mapping[str, str] | None = None,
        events: Sequence[str] | None = None,
        repository_selection: str = "selected",
    ) -> Installation:
        """Install the App on an account; `repositories` are names created under it."""
        if account_type not in {"Organization", "User"}:
            raise ValueError(f"account_type must be Organization or User, not {account_type}")
        if installation_id in self.installations:
            raise ValueError(f"installation {installation_id} exists")
        now = self.now()
        installation = Installation(
            id=installation_id,
            account_login=account_login,
            account_type=account_type,
            account_id=self.user_id(account_login),
            permissions=dict(DEFAULT_PERMISSIONS if permissions is None else permissions),
            events=list(DEFAULT_EVENTS if events is None else events),
            repository_selection=repository_selection,
            created_at=now,
            updated_at=now,
        )
        self.installations[installation_id] = installation
        for name in repositories:
            self.add_repository(installation_id, account_login, name, self.next_id())
        return installation

    def suspend_installation(self, installation_id: int) -> None:
        self.installations[installation_id].suspended_at = self.now()

    def unsuspend_installation(self, installation_id: int) -> None:
        self.installations[installation_id].suspended_at = None

    def add_repository(
        self,
        installation_id: int | None,
        owner: str,
        name: str,
        repo_id: int,
        default_branch: str = "main",
        private: bool = False,
    ) -> Repository:
        """A repository; `installation_id=None` makes one the App is not installed on."""
        owner_type = "User"
        if installation_id is not None:
            installation = self.installations[installation_id]
            # An installation lives on one account and only ever sees that account's repos.
            if installation.account_login.lower() != owner.lower():
                raise ValueError(
                    f"installation {installation_id} is on {installation.account_login}, "
                    f"not {owner}"
                )
            owner, owner_type = installation.account_login, installation.account_type
        key = (owner.lower(), name.lower())
        if key in self.repositories:
            raise ValueError(f"repository {owner}/{name} exists")
        repository = Repository(
            id=repo_id,
            owner=owner,
            name=name,
            owner_id=self.user_id(owner),
            owner_type=owner_type,
            installation_id=installation_id,
            default_branch=default_branch,
            private=private,
            created_at=self.now(),
        )
        self.repositories[key] = repository
        return repository

    def repository(self, owner: str, name: str) -> Repository | None:
        return self.repositories.get((owner.lower(), name.lower()))

    def repository_by_id(self, repo_id: int) -> Repository | None:
        return next((r for r in self.repositories.values() if r.id == repo_id), None)

    def installation_repositories(self, installation_id: int) -> list[Repository]:
        return [r for r in self.repositories.values() if r.installation_id == installation_id]

    def add_pull_request(
        self,
        owner: str,
        name: str,
        number: int,
        head_sha: str,
        base_sha: str,
        title: str,
        body: str | None,
        user_login: str,
        draft: bool = False,
        files: Sequence[Mapping[str, Any]] = (),
        *,
        head_ref: str = "feature",
        base_ref: str | None = None,
    ) -> PullRequest:
        repository = self._require_repository(owner, name)
        key = (repository.owner.lower(), repository.name.lower(), number)
        if key in self.pull_requests:
            raise ValueError(f"pull request {owner}/{name}#{number} exists")
        now = self.now()
        pull = PullRequest(
            repository=repository,
            number=number,
            id=self.next_id(),
            head_sha=head_sha,
            base_sha=base_sha,
            head_ref=head_ref,
            base_ref=base_ref or repository.default_branch,
            title=title,
            body=body,
            user_login=user_login,
            draft=draft,
            files=[_normalise_file(f) for f in files],
            created_at=now,
            updated_at=now,
        )
        self.pull_requests[key] = pull
        return pull

    def update_pull_request(
        self, owner: str, name: str, number: int, **changes: Any
    ) -> PullRequest:
        """Change a pull request as a push or an edit would (head_sha, files, title, state...)."""
        pull = self.pull_request(owner, name, number)
        if pull is None:
            raise KeyError(f"{owner}/{name}#{number}")
        for attribute, value in changes.items():
            if not hasattr(pull, attribute):
                raise AttributeError(f"pull requests have no {attribute}")
            if attribute == "files":
                value = [_normalise_file(f) for f in value]
            setattr(pull, attribute, value)
        pull.updated_at = self.now()
        return pull

    def pull_request(self, owner: str, name: str, number: int) -> PullRequest | None:
        return self.pull_requests.get((owner.lower(), name.lower(), number))

    def add_issue_comment(
        self,
        owner: str,
        name: str,
        comment_id: int,
        body: str = "",
        user_login: str = "octocat",
        issue_number: int = 1,
    ) -> IssueComment:
        """A comment on an issue or pull request; reactions need the comment to exist."""
        comment = IssueComment(
            id=comment_id,
            repository=self._require_repository(owner, name),
            issue_number=issue_number,
            body=body,
            user_login=user_login,
            created_at=self.now(),
        )
        self.issue_comments[comment_id] = comment
        return comment

    def _require_repository(self, owner: str, name: str) -> Repository:
        repository = self.repository(owner, name)
        if repository is None:
            raise KeyError(f"no repository {owner}/{name}; add_repository first")
        return repository

    # -- tokens --------------------------------------------------------------------------

    def issue_token(
        self,
        installation: Installation,
        permissions: Mapping[str, str],
        repository_ids: list[int] | None,
    ) -> IssuedToken:
        now = self.now()
        issued = IssuedToken(
            # Classic 40-character shape; GitHub is moving to longer stateless tokens, so
            # nothing should rely on the length.
            token="ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36],
            installation_id=installation.id,
            permissions=dict(permissions),
            repository_ids=repository_ids,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
        self.tokens[issued.token] = issued
        self.issued_tokens.append(issued)
        return issued

    def tokens_issued(self, installation_id: int | None = None) -> int:
        """How many installation tokens were minted (for asserting that clients cache them)."""
        return sum(
            1
            for t in self.issued_tokens
            if installation_id is None or t.installation_id == installation_id
        )

    def revoke_tokens(self, installation_id: int | None = None) -> None:
        for issued in self.issued_tokens:
            if installation_id is None or issued.installation_id == installation_id:
                issued.revoked = True

    # -- limits and faults ---------------------------------------------------------------

    def rate_limit(self, key: str) -> RateLimitBucket:
        """The primary budget of a caller: "installation:<id>", "app" or "anonymous:<ip>".

        Tests may mutate the bucket (e.g. `used = limit`) to exhaust it."""
        now = int(self.now().timestamp())
        bucket = self.rate_limits.get(key)
        if bucket is None or bucket.reset_at <= now:
            limit = ANONYMOUS_RATE_LIMIT if key.startswith("anonymous") else INSTALLATION_RATE_LIMIT
            if bucket is not None:
                limit = bucket.limit
            bucket = RateLimitBucket(limit=limit, used=0, reset_at=now + 3600)
            self.rate_limits[key] = bucket
        return bucket

    def installation_rate_limit(self, installation_id: int) -> RateLimitBucket:
        return self.rate_limit(f"installation:{installation_id}")

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        count: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        method: str | None = None,
        rate_limit: str | None = None,
    ) -> None:
        """Answer the next `count` requests whose path starts with `path_prefix` (and whose
        method is `method`, if given) with `status`, before any other processing."""
        self.faults.append(
            Fault(
                path_prefix=path_prefix,
                status=status,
                remaining=count,
                headers={k.lower(): v for k, v in (headers or {}).items()},
                body=body,
                method=method.upper() if method else None,
                rate_limit=rate_limit,
            )
        )

    def fail_next_primary_rate_limit(
        self, path_prefix: str, count: int = 1, *, reset_in: int = 60, status: int = 403
    ) -> None:
        """GitHub's answer once the hourly budget is spent: remaining 0 and a reset time,
        no retry-after. The message names the caller, so it is written when answering."""
        reset = int(self.now().timestamp()) + reset_in
        self.fail_next(
            path_prefix,
            status,
            count,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            rate_limit="primary",
        )

    def fail_next_secondary_rate_limit(
        self, path_prefix: str, count: int = 1, *, retry_after: int = 60, status: int = 403
    ) -> None:
        self.fail_next(
            path_prefix,
            status,
            count,
            headers={"retry-after": str(retry_after)},
            rate_limit="secondary",
        )

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path_prefix) and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None


def _normalise_file(file: Mapping[str, Any]) -> dict[str, Any]:
    """Check a PR file against GitHub's shape and fill in what GitHub would compute."""
    entry = dict(file)
    if "filename" not in entry:
        raise ValueError(f"a pull request file needs a filename: {file}")
    status = entry.setdefault("status", "modified")
    if status not in FILE_STATUSES:
        raise ValueError(f"file status must be one of {sorted(FILE_STATUSES)}, not {status}")
    if status == "renamed" and "previous_filename" not in entry:
        raise ValueError(f"a renamed file needs previous_filename: {file}")
    entry.setdefault("additions", 0)
    entry.setdefault("deletions", 0)
    entry.setdefault("changes", entry["additions"] + entry["deletions"])
    if "sha" not in entry:
        seed = f"{entry['filename']}\0{entry.get('patch', '')}".encode()
        entry["sha"] = hashlib.sha1(seed).hexdigest()  # noqa: S324 - a blob id, not security
    return entry
