"""Everything the GitHub fake knows, in plain dicts and lists.

One `GitHubState` is one GitHub App on one GitHub: its key, its installations, their
repositories and pull requests, the tokens it was issued, the webhooks it sent, and the knobs a
test turns to make GitHub misbehave. The HTTP layer (`app.py`) and the webhook sender
(`webhooks.py`) read and write it; tests arrange it directly and assert on what it recorded.
Everything runs on one event loop, so no locks: mutations never span an `await`.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.github.git import RepoGit
from sandbox.github.history import HistoryMixin
from sandbox.github.holds import Hold, HoldsMixin
from sandbox.github.limits import LimitsMixin
from sandbox.github.records import (
    CheckRun,
    DeliveryRecord,
    Fault,
    Installation,
    IssueComment,
    IssuedToken,
    PullRequest,
    RateLimitBucket,
    RecordedRequest,
    Repository,
    Review,
    ReviewComment,
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
TOKEN_LIFETIME = timedelta(hours=1)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class GitHubState(HistoryMixin, LimitsMixin, HoldsMixin):
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
        # The claims of every App JWT presented (verified or not), oldest first.
        self.app_jwt_claims: list[dict[str, Any]] = []
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
        self.git: dict[tuple[str, str], RepoGit] = {}
        # Issues (and pull requests, which are issues too) by (owner, name, number).
        self.issues: set[tuple[str, str, int]] = set()
        self.issue_comments: dict[int, IssueComment] = {}
        self.check_runs: dict[int, CheckRun] = {}
        # One check suite per (owner, name, head SHA, App), as GitHub groups check runs.
        self.check_suites: dict[tuple[str, str, str, int], int] = {}
        self.reviews: dict[int, Review] = {}
        self.pull_review_comments: dict[int, ReviewComment] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.issued_tokens: list[IssuedToken] = []
        # {"id", "repository" (full name), "comment_id", "content", "user_login", "created_at"}
        self.reactions: list[dict[str, Any]] = []
        self.deliveries: list[DeliveryRecord] = []
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self.rate_limits: dict[str, RateLimitBucket] = {}
        # Content-creating requests per caller, for the secondary limits.
        self.secondary_writes_per_minute = 80
        self.secondary_writes_per_hour = 500
        self.write_times: dict[str, list[datetime]] = {}
        self.user_ids: dict[str, int] = {}
        # The App's OAuth (user-to-server) flow: its client credentials and callback URLs,
        # who is signed in to GitHub in "the browser", codes handed out and user tokens.
        self.client_id = f"Iv1.{app_id:016x}"
        self.client_secret = secrets.token_hex(20)
        self.callback_urls: list[str] = []
        self.web_login: str | None = None
        self.oauth_codes: dict[str, tuple[str, str | None, datetime]] = {}
        self.user_tokens: dict[str, str] = {}

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

    def add_issue(self, owner: str, name: str, number: int) -> None:
        """An issue the App can comment on (pull requests are issues already)."""
        repository = self._require_repository(owner, name)
        self.issues.add((repository.owner.lower(), repository.name.lower(), number))

    def issue_exists(self, repository: Repository, number: int) -> bool:
        key = (repository.owner.lower(), repository.name.lower(), number)
        return key in self.issues or key in self.pull_requests

    def add_issue_comment(
        self,
        owner: str,
        name: str,
        comment_id: int | None = None,
        body: str = "",
        user_login: str = "octocat",
        issue_number: int = 1,
        *,
        user_type: str = "User",
        app_id: int | None = None,
    ) -> IssueComment:
        """A comment on an issue or pull request, by a user (or, with `user_type="Bot"` and
        `app_id`, by an App). A None `comment_id` takes the next id."""
        repository = self._require_repository(owner, name)
        now = self.now()
        comment = IssueComment(
            id=self.next_id() if comment_id is None else comment_id,
            repository=repository,
            issue_number=issue_number,
            body=body,
            user_login=user_login,
            created_at=now,
            user_type=user_type,
            updated_at=now,
            app_id=app_id,
        )
        self.issues.add((repository.owner.lower(), repository.name.lower(), issue_number))
        self.issue_comments[comment.id] = comment
        return comment

    # -- what the App posted -------------------------------------------------------------

    def issue_comments_on(self, owner: str, name: str, number: int) -> list[IssueComment]:
        """The comments on an issue or pull request, oldest first."""
        return sorted(
            (
                c
                for c in self.issue_comments.values()
                if _same(c.repository, owner, name) and c.issue_number == number
            ),
            key=lambda c: (c.created_at, c.id),
        )

    def reviews_for(self, owner: str, name: str, number: int) -> list[Review]:
        """The reviews of a pull request, oldest first."""
        return [
            r
            for r in self.reviews.values()
            if _same(r.repository, owner, name) and r.pull_number == number
        ]

    def review_comments(
        self, owner: str, name: str, number: int, review_id: int | None = None
    ) -> list[ReviewComment]:
        """The review comments of a pull request (or of one of its reviews), oldest first."""
        return [
            c
            for c in self.pull_review_comments.values()
            if _same(c.repository, owner, name)
            and c.pull_number == number
            and review_id in (None, c.review_id)
        ]

    def check_runs_for(self, owner: str, name: str, head_sha: str) -> list[CheckRun]:
        """The check runs on a commit, oldest first."""
        return [
            r
            for r in self.check_runs.values()
            if _same(r.repository, owner, name) and r.head_sha == head_sha.lower()
        ]

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


def _same(repository: Repository, owner: str, name: str) -> bool:
    return (repository.owner.lower(), repository.name.lower()) == (owner.lower(), name.lower())
