"""What every endpoint module shares: GitHub's error answers, the caller and the state behind a
request, bodies and pagination as GitHub reads them, and the access rule for repositories."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from sandbox.github import shapes
from sandbox.github.auth import JWT_NOT_DECODED, Caller, can_see, has_permission, in_scope
from sandbox.github.records import PullRequest, Repository
from sandbox.github.state import GitHubState

NOT_ACCESSIBLE = "Resource not accessible by integration"
# GitHub's limit on every body of text people write (comments, reviews, issues).
MAX_BODY = 65536


class GitHubJSON(JSONResponse):
    media_type = "application/json; charset=utf-8"


class GitHubError(Exception):
    def __init__(
        self, status: int, message: str, documentation_url: str = shapes.DOCS, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.documentation_url = documentation_url
        self.extra = extra


# -- GitHub's three ways of saying 422 ------------------------------------------------------


def invalid_request(lines: Iterable[str], docs: str = shapes.DOCS) -> GitHubError:
    """A body that fails the endpoint's JSON schema: "Invalid request." and one line per
    problem, as GitHub's schema validator words them."""
    return GitHubError(422, "Invalid request.\n\n" + "\n".join(lines), docs)


def validation_failed(errors: list[dict[str, Any]], docs: str = shapes.DOCS) -> GitHubError:
    """A well-formed body a model refuses: "Validation Failed" with error objects."""
    return GitHubError(422, "Validation Failed", docs, errors=errors)


def unprocessable(messages: list[str], docs: str = shapes.DOCS) -> GitHubError:
    """GitHub's older form: "Unprocessable Entity" with the model's messages run together
    into one sentence (Rails' `to_sentence`), as the reviews endpoint answers."""
    return GitHubError(422, "Unprocessable Entity", docs, errors=[to_sentence(messages)])


def to_sentence(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def not_supplied(names: Iterable[str]) -> str:
    """The schema validator's line for missing required properties (sorted, as GitHub)."""
    quoted = ", ".join(f'"{n}"' for n in sorted(names))
    return f"{quoted} {'weren' if ',' in quoted else 'wasn'}'t supplied."


def not_member(field: str, value: Any, allowed: Iterable[str]) -> str:
    options = ", ".join(json.dumps(a) for a in allowed)
    return f"For 'properties/{field}', {json.dumps(value)} is not a member of [{options}]."


def not_type(field: str, value: Any, kind: str) -> str:
    return f"For 'properties/{field}', {json.dumps(value)} is not {kind}."


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as GitHub takes it (`2024-01-01T00:00:00Z`)."""
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- the request -----------------------------------------------------------------------------


def state_of(request: Request) -> GitHubState:
    state: GitHubState = request.app.state.github
    return state


def api_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def caller_of(request: Request) -> Caller:
    caller: Caller = request.state.caller
    return caller


def require_app(request: Request) -> GitHubState:
    if caller_of(request).kind != "app":
        raise GitHubError(401, JWT_NOT_DECODED)
    return state_of(request)


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise GitHubError(400, "Problems parsing JSON") from error
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


def int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def page_params(request: Request) -> tuple[int, int]:
    """`page` and `per_page` as GitHub reads them: per_page defaults to 30 and is capped at
    100, nonsense falls back to the default."""
    per_page = int_param(request, "per_page", 30)
    per_page = 30 if per_page < 1 else min(per_page, 100)
    return max(int_param(request, "page", 1), 1), per_page


def paginate(request: Request, items: list[Any], response: Response) -> list[Any]:
    """One page of `items`, with GitHub's Link header (prev, next, last, first) when there
    is more than one page."""
    page, per_page = page_params(request)
    last = max(math.ceil(len(items) / per_page), 1)
    links = []
    here = request.url.include_query_params(per_page=per_page)
    if page > 1:
        links.append((min(page - 1, last), "prev"))
    if page < last:
        links += [(page + 1, "next"), (last, "last")]
    if page > 1:
        links.append((1, "first"))
    if links:
        response.headers["link"] = ", ".join(
            f'<{here.include_query_params(page=number)}>; rel="{rel}"' for number, rel in links
        )
    return items[(page - 1) * per_page : page * per_page]


def repository_for(
    request: Request, owner: str, repo: str, *permissions: str, write: bool = False
) -> Repository:
    """The repository, if this caller may use it as asked (any one of `permissions`, at the
    level asked, on a repository its token was granted); GitHub's refusal otherwise."""
    state, caller = state_of(request), caller_of(request)
    if caller.kind == "app":
        raise GitHubError(403, NOT_ACCESSIBLE)
    if write and caller.kind == "anonymous":
        raise GitHubError(401, "Requires authentication")
    repository = state.repository(owner, repo)
    if repository is None or not can_see(state, caller, repository):
        raise GitHubError(404, "Not Found")
    if not in_scope(state, caller, repository):
        if write:
            raise GitHubError(403, NOT_ACCESSIBLE)
        return repository  # public data, readable by anyone
    level = "write" if write else "read"
    if not any(has_permission(caller, p, level) for p in permissions):
        raise GitHubError(403, NOT_ACCESSIBLE)
    return repository


def pull_for(
    request: Request, owner: str, repo: str, number: int, *, write: bool = False
) -> PullRequest:
    """A pull request of a repository the caller may use with `pull_requests` access."""
    repository = repository_for(request, owner, repo, "pull_requests", write=write)
    pull = state_of(request).pull_request(repository.owner, repository.name, number)
    if pull is None:
        raise GitHubError(404, "Not Found")
    return pull
