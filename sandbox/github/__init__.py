"""A GitHub REST API simulator speaking GitHub's wire format over real HTTP, for tests and the
local demo: point githubkit (or anything else) at `serve_github(state)`'s URL."""

from sandbox.github.app import create_github_app
from sandbox.github.auth import create_app_jwt
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
from sandbox.github.server import serve_github
from sandbox.github.state import GitHubState
from sandbox.github.webhooks import (
    deliver,
    encode,
    issue_comment_event,
    pull_request_event,
    redeliver,
    sign,
    signed_headers,
)

__all__ = [
    "DeliveryRecord",
    "Fault",
    "GitHubState",
    "Installation",
    "IssueComment",
    "IssuedToken",
    "PullRequest",
    "RateLimitBucket",
    "RecordedRequest",
    "Repository",
    "create_app_jwt",
    "create_github_app",
    "deliver",
    "encode",
    "issue_comment_event",
    "pull_request_event",
    "redeliver",
    "serve_github",
    "sign",
    "signed_headers",
]
