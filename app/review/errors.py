"""What can go wrong in a review, sorted into "try again later" and "tell the admin".

Every message is written for a workspace admin and never carries a key, a token, a prompt
or a diff.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from githubkit.exception import (
    GraphQLFailed,
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)

from app.worker_metrics import GITHUB_REQUESTS
from reviewers.providers.base import ProviderError, ProviderErrorKind

# GitHub asks for at least a minute after a secondary rate limit without retry-after.
SECONDARY_LIMIT_FLOOR = timedelta(minutes=1)


class ReviewError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(ReviewError):
    """Worth another attempt, not before `retry_after` (when the other side said so)."""

    def __init__(
        self,
        reason: str,
        retry_after: timedelta | None = None,
        *,
        stale_token: bool = False,
        doubling: bool = False,
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        # GitHub refused the installation token: mint a new one before the next attempt.
        self.stale_token = stale_token
        # `retry_after` is a floor for the first retry that doubles with each further one
        # (GitHub's advice for a secondary rate limit that names no time).
        self.doubling = doubling


class PermanentError(ReviewError):
    """Another attempt would fail the same way: the run fails with this reason."""


class RunStopped(Exception):
    """The run was superseded or cancelled while it ran: stop spending tokens."""


def from_provider(error: ProviderError) -> ReviewError:
    provider = error.provider.capitalize() if error.provider != "openai" else "OpenAI"
    if error.kind is ProviderErrorKind.RATE_LIMITED:
        return TransientError(
            f"{provider} rate-limited the review; it will be retried",
            timedelta(seconds=error.retry_after) if error.retry_after else None,
        )
    if error.kind.transient:
        return TransientError(f"{provider} is unavailable ({error.kind.value}); retrying")
    return PermanentError(error.message)


def from_github(error: Exception, doing: str) -> ReviewError:
    classified = _from_github(error, doing)
    GITHUB_REQUESTS.labels(_outcome(error)).inc()
    return classified


def _outcome(error: Exception) -> str:
    if isinstance(error, SecondaryRateLimitExceeded):
        return "secondary_rate_limit"
    if isinstance(error, PrimaryRateLimitExceeded):
        return "primary_rate_limit"
    if isinstance(error, RequestFailed):
        return f"{error.response.status_code // 100}xx"
    return "unreachable"


def _from_github(error: Exception, doing: str) -> ReviewError:
    if isinstance(error, SecondaryRateLimitExceeded):
        return TransientError(
            f"GitHub's secondary rate limit while {doing}",
            max(error.retry_after, SECONDARY_LIMIT_FLOOR),
        )
    if isinstance(error, PrimaryRateLimitExceeded):
        return TransientError(
            f"GitHub's rate limit for this installation is used up while {doing}",
            error.retry_after,
        )
    if isinstance(error, RequestFailed):
        status = error.response.status_code
        if status in (403, 429) and (_says_secondary_limit(error) or status == 429):
            # githubkit recognises a secondary limit only with retry-after or a spent primary
            # budget; GitHub also sends it bare. Wait a minute, then longer each time.
            return TransientError(
                f"GitHub's secondary rate limit ({status}) while {doing}; waiting before retrying",
                SECONDARY_LIMIT_FLOOR,
                doubling=True,
            )
        if status >= 500:
            return TransientError(f"GitHub answered {status} while {doing}")
        if status == 404:
            return PermanentError(
                f"GitHub answered 404 while {doing}: the repository or pull request is gone, "
                "or the App lost access to it"
            )
        if status == 401:
            return TransientError(
                f"GitHub refused the installation token (401) while {doing}; a new token "
                "will be used",
                stale_token=True,
            )
        if status == 403:
            return PermanentError(
                f"GitHub refused access (403) while {doing}: check that the App is "
                "installed on the repository with its permissions accepted"
            )
        said = _github_says(error)
        return PermanentError(
            f"GitHub rejected the request ({status}) while {doing}" + (f": {said}" if said else "")
        )
    if isinstance(error, GraphQLFailed):
        return _from_graphql(error, doing)
    if isinstance(error, RequestTimeout):
        return TransientError(f"GitHub did not answer in time while {doing}")
    if isinstance(error, RequestError):
        inner = error.exc
        if isinstance(inner, RequestFailed):  # a refused installation token, wrapped
            return _from_github(inner, doing)
        return TransientError(f"could not reach GitHub while {doing}")
    raise error


GITHUB_MESSAGE_LIMIT = 300
# GitHub's GraphQL API says when its hourly points reset only in headers githubkit keeps
# to itself: a minute, doubling, is its advice for an unspecified wait.
GRAPHQL_LIMIT_WAIT = timedelta(minutes=1)


def _from_graphql(error: GraphQLFailed, doing: str) -> ReviewError:
    """GraphQL answers 200 with `errors`, each with a `type` where GitHub knows it."""
    errors = list(error.response.errors or [])
    kinds = {str(getattr(e, "type", "") or "") for e in errors}
    said = " ".join(" ".join(str(getattr(e, "message", "")) for e in errors).split())
    said = said if len(said) <= GITHUB_MESSAGE_LIMIT else said[: GITHUB_MESSAGE_LIMIT - 1] + "…"
    if "RATE_LIMITED" in kinds:
        return TransientError(
            f"GitHub's GraphQL rate limit while {doing}; waiting before retrying",
            GRAPHQL_LIMIT_WAIT,
            doubling=True,
        )
    if "NOT_FOUND" in kinds:
        return PermanentError(
            f"GitHub found nothing while {doing}: the repository or pull request is gone, "
            "or the App lost access to it"
        )
    if "FORBIDDEN" in kinds:
        return PermanentError(
            f"GitHub refused access while {doing}: check that the App is installed on the "
            "repository with its permissions accepted"
        )
    return PermanentError(f"GitHub rejected the request while {doing}: {said}")


def _github_says(error: RequestFailed) -> str:
    """GitHub's own words for a refusal (`message`, and each `errors[].message`), on one
    line and short: they usually name the field at fault."""
    try:
        body = error.response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message") or "")]
    for item in body.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
        elif isinstance(item, str):
            parts.append(item)
    said = " ".join(" ".join(parts).split())
    if len(said) > GITHUB_MESSAGE_LIMIT:
        said = said[: GITHUB_MESSAGE_LIMIT - 1] + "…"
    return said


def _says_secondary_limit(error: RequestFailed) -> bool:
    try:
        body = error.response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    text = f"{body.get('message', '')} {body.get('documentation_url', '')}".lower()
    return "secondary rate limit" in text or "secondary-rate-limits" in text or "abuse" in text


def retry_at(delay: timedelta | None) -> datetime | None:
    return datetime.now(UTC) + delay if delay else None
