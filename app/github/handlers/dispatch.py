"""Which handler processes which (event, action), and in which scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from app.github.context import IntakeContext, Outcome
from app.github.handlers import (
    check_runs,
    comments,
    installations,
    other,
    pull_requests,
    repository_events,
)

Handler = Callable[[IntakeContext], Awaitable[Outcome]]


class Scope(Enum):
    # No database work: nothing to scope.
    NONE = "none"
    # Creates or changes installations across workspaces: the PROVISIONING system context.
    PROVISIONING = "provisioning"
    # Everything else belongs to the workspace of the payload's installation.
    WORKSPACE = "workspace"


@dataclass(frozen=True)
class Route:
    handler: Handler
    scope: Scope


_ROUTES: dict[tuple[str, str | None], Route] = {
    ("ping", None): Route(other.ping, Scope.NONE),
    ("github_app_authorization", "revoked"): Route(
        other.github_app_authorization_revoked, Scope.NONE
    ),
    ("installation", "created"): Route(installations.installation_created, Scope.PROVISIONING),
    ("installation", "deleted"): Route(installations.installation_deleted, Scope.PROVISIONING),
    ("installation", "suspend"): Route(installations.installation_suspend, Scope.PROVISIONING),
    ("installation", "unsuspend"): Route(installations.installation_unsuspend, Scope.PROVISIONING),
    ("installation", "new_permissions_accepted"): Route(
        installations.installation_new_permissions_accepted, Scope.PROVISIONING
    ),
    ("installation_repositories", "added"): Route(
        installations.installation_repositories_added, Scope.PROVISIONING
    ),
    ("installation_repositories", "removed"): Route(
        installations.installation_repositories_removed, Scope.PROVISIONING
    ),
    ("installation_target", "renamed"): Route(
        installations.installation_target_renamed, Scope.PROVISIONING
    ),
    ("repository", "renamed"): Route(repository_events.repository_renamed, Scope.WORKSPACE),
    ("repository", "transferred"): Route(repository_events.repository_transferred, Scope.WORKSPACE),
    ("repository", "edited"): Route(repository_events.repository_edited, Scope.WORKSPACE),
    ("repository", "archived"): Route(repository_events.repository_archived, Scope.WORKSPACE),
    ("repository", "unarchived"): Route(repository_events.repository_unarchived, Scope.WORKSPACE),
    ("repository", "deleted"): Route(repository_events.repository_deleted, Scope.WORKSPACE),
    **{
        ("pull_request", action): Route(pull_requests.pull_request_review_event, Scope.WORKSPACE)
        for action in ("opened", "reopened", "ready_for_review", "synchronize")
    },
    ("pull_request", "closed"): Route(pull_requests.pull_request_closed, Scope.WORKSPACE),
    ("pull_request", "converted_to_draft"): Route(
        pull_requests.pull_request_converted_to_draft, Scope.WORKSPACE
    ),
    ("issue_comment", "created"): Route(comments.issue_comment_created, Scope.WORKSPACE),
    ("check_run", "rerequested"): Route(check_runs.check_run_rerun, Scope.WORKSPACE),
    ("check_run", "requested_action"): Route(check_runs.check_run_rerun, Scope.WORKSPACE),
}


def route_for(event: str, action: str | None) -> Route | None:
    return _ROUTES.get((event, action)) or _ROUTES.get((event, None))
