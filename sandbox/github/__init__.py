"""A GitHub REST API simulator speaking GitHub's wire format over real HTTP, for tests and the
local demo: point githubkit (or anything else) at `serve_github(state)`'s URL.

Arrange a `GitHubState` (installations, repositories, pull requests, files, commits), serve
it, and assert on what it recorded (`requests`, `deliveries`, and what the App posted:
`reviews_for`, `review_comments`, `check_runs_for`, `issue_comments_on`). Modules by area:
`state`/`history`/`git` (the world and its history), `limits` (rate limits, injected faults),
`auth` (who is calling), `app` (GitHub's edge), `endpoints*` (routes: App and pull requests,
contents and compare, check runs, reviews, issue comments), `check_rules` and `diffs`
(GitHub's validation rules), `shapes*` (JSON shapes), `webhooks` (deliveries and payloads).
"""

from sandbox.github.app import create_github_app
from sandbox.github.auth import create_app_jwt
from sandbox.github.git import Comparison
from sandbox.github.records import (
    CheckRun,
    Commit,
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
from sandbox.github.server import serve_github
from sandbox.github.state import GitHubState
from sandbox.github.webhooks import (
    deliver,
    encode,
    installation_event,
    installation_repositories_event,
    issue_comment_event,
    pull_request_event,
    redeliver,
    sign,
    signed_headers,
)

__all__ = [
    "CheckRun",
    "Commit",
    "Comparison",
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
    "Review",
    "ReviewComment",
    "create_app_jwt",
    "create_github_app",
    "deliver",
    "encode",
    "installation_event",
    "installation_repositories_event",
    "issue_comment_event",
    "pull_request_event",
    "redeliver",
    "serve_github",
    "sign",
    "signed_headers",
]
