"""The REST endpoints the fake serves, each with GitHub's rules for who may call it.

App endpoints (`/app/...`, `/repos/{o}/{r}/installation`) take only the App's JWT. Repository
endpoints take an installation token: a repository granted to the token is fully usable (given
the permission), a public one outside it can be read but not written, and a private one outside
it does not exist (404), exactly as GitHub hides it. Requests arrive here after `app._edge` has
authenticated them and put the `Caller` on `request.state`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.github import shapes
from sandbox.github.auth import (
    JWT_NOT_DECODED,
    SUSPENDED,
    AuthError,
    Caller,
    can_see,
    grant,
    has_permission,
    in_scope,
)
from sandbox.github.records import Repository
from sandbox.github.state import GitHubState
from sandbox.github.webhooks import redeliver

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
# GitHub's files API lists at most this many files of a pull request.
MAX_PULL_FILES = 3000
NOT_ACCESSIBLE = "Resource not accessible by integration"
DOCS_APPS = "https://docs.github.com/rest/apps/apps"
DOCS_REACTIONS = (
    "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment"
)

router = APIRouter()


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


def _state(request: Request) -> GitHubState:
    state: GitHubState = request.app.state.github
    return state


def _api(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _caller(request: Request) -> Caller:
    caller: Caller = request.state.caller
    return caller


def _require_app(request: Request) -> GitHubState:
    if _caller(request).kind != "app":
        raise GitHubError(401, JWT_NOT_DECODED)
    return _state(request)


async def _json_body(request: Request) -> dict[str, Any]:
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


def _int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _page(request: Request) -> tuple[int, int]:
    """`page` and `per_page` as GitHub reads them: per_page defaults to 30 and is capped at
    100, nonsense falls back to the default."""
    per_page = _int_param(request, "per_page", 30)
    per_page = 30 if per_page < 1 else min(per_page, 100)
    return max(_int_param(request, "page", 1), 1), per_page


def _paginate(request: Request, items: list[Any], response: Response) -> list[Any]:
    """One page of `items`, with GitHub's Link header (prev, next, last, first) when there
    is more than one page."""
    page, per_page = _page(request)
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


def _repository(
    request: Request, owner: str, repo: str, *permissions: str, write: bool = False
) -> Repository:
    """The repository, if this caller may use it as asked (any one of `permissions`, at the
    level asked, on a repository its token was granted); GitHub's refusal otherwise."""
    state, caller = _state(request), _caller(request)
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


# -- the App ---------------------------------------------------------------------------------


@router.get("/app")
async def get_app(request: Request) -> Any:
    return shapes.app(_require_app(request), _api(request))


@router.get("/app/installations")
async def list_installations(request: Request, response: Response) -> Any:
    state = _require_app(request)
    installations = sorted(state.installations.values(), key=lambda i: i.id)
    page = _paginate(request, installations, response)
    return [shapes.installation(state, _api(request), i) for i in page]


@router.get("/app/installations/{installation_id}")
async def get_installation(request: Request, installation_id: int) -> Any:
    state = _require_app(request)
    installation = state.installations.get(installation_id)
    if installation is None:
        raise GitHubError(
            404, "Not Found", f"{DOCS_APPS}#get-an-installation-for-the-authenticated-app"
        )
    return shapes.installation(state, _api(request), installation)


@router.post("/app/installations/{installation_id}/access_tokens", status_code=201)
async def create_access_token(request: Request, installation_id: int) -> Any:
    state = _require_app(request)
    docs = f"{DOCS_APPS}#create-an-installation-access-token-for-an-app"
    installation = state.installations.get(installation_id)
    if installation is None:
        raise GitHubError(404, "Not Found", docs)
    if installation.suspended_at is not None:
        raise GitHubError(403, SUSPENDED, docs)
    body = await _json_body(request)
    if not _valid_token_request(body):
        raise GitHubError(422, "Invalid request.", docs)
    try:
        issued = grant(state, installation, body)
    except AuthError as error:
        raise GitHubError(error.status, error.message, docs) from error
    token: dict[str, Any] = {
        "token": issued.token,
        "expires_at": shapes.iso(issued.expires_at),
        "permissions": issued.permissions,
        "repository_selection": (
            installation.repository_selection if issued.repository_ids is None else "selected"
        ),
    }
    if issued.repository_ids is not None:
        token["repositories"] = [
            shapes.repository(state, _api(request), r)
            for r in state.installation_repositories(installation.id)
            if r.id in issued.repository_ids
        ]
    return token


def _valid_token_request(body: dict[str, Any]) -> bool:
    names, ids, permissions = (
        body.get("repositories"),
        body.get("repository_ids"),
        body.get("permissions"),
    )
    return (
        (names is None or (isinstance(names, list) and all(isinstance(n, str) for n in names)))
        and (ids is None or (isinstance(ids, list) and all(isinstance(i, int) for i in ids)))
        and (permissions is None or isinstance(permissions, dict))
    )


@router.get("/repos/{owner}/{repo}/installation")
async def get_repo_installation(request: Request, owner: str, repo: str) -> Any:
    state = _require_app(request)
    repository = state.repository(owner, repo)
    if repository is None or repository.installation_id is None:
        raise GitHubError(404, "Not Found")
    return shapes.installation(
        state, _api(request), state.installations[repository.installation_id]
    )


# -- webhook deliveries ----------------------------------------------------------------------


@router.get("/app/hook/deliveries")
async def list_deliveries(request: Request, response: Response) -> Any:
    """Newest first, paged by an opaque cursor naming the first delivery of the next page."""
    state = _require_app(request)
    _, per_page = _page(request)
    deliveries = sorted(state.deliveries, key=lambda d: d.id, reverse=True)
    redelivery = request.query_params.get("redelivery")
    if redelivery in {"true", "false"}:
        deliveries = [d for d in deliveries if d.redelivery == (redelivery == "true")]
    status = request.query_params.get("status")
    if status in {"success", "failure"}:
        deliveries = [d for d in deliveries if (d.status == "OK") == (status == "success")]
    cursor = request.query_params.get("cursor")
    if cursor:
        try:
            start = int(cursor.removeprefix("v1_"))
        except ValueError as error:
            raise GitHubError(400, "Invalid cursor") from error
        deliveries = [d for d in deliveries if d.id <= start]
    page, rest = deliveries[:per_page], deliveries[per_page:]
    if rest:
        next_url = request.url.include_query_params(per_page=per_page, cursor=f"v1_{rest[0].id}")
        response.headers["link"] = f'<{next_url}>; rel="next"'
    return [shapes.delivery_item(d) for d in page]


@router.get("/app/hook/deliveries/{delivery_id}")
async def get_delivery(request: Request, delivery_id: int) -> Any:
    state = _require_app(request)
    record = next((d for d in state.deliveries if d.id == delivery_id), None)
    if record is None:
        raise GitHubError(404, "Not Found")
    return shapes.delivery(record)


@router.post("/app/hook/deliveries/{delivery_id}/attempts", status_code=202)
async def redeliver_delivery(request: Request, delivery_id: int) -> Any:
    state = _require_app(request)
    if not any(d.id == delivery_id for d in state.deliveries):
        raise GitHubError(404, "Not Found")
    # GitHub queues the attempt and answers at once; the fake sends it before answering so
    # that a test sees the redelivery as soon as this call returns.
    await redeliver(state, delivery_id)
    return {}


# -- repositories ----------------------------------------------------------------------------


@router.get("/installation/repositories")
async def list_installation_repositories(request: Request, response: Response) -> Any:
    state, caller = _state(request), _caller(request)
    if caller.token is None:
        raise GitHubError(403, "You must authenticate with an installation access token")
    installation = state.installations[caller.token.installation_id]
    granted = [
        r
        for r in sorted(state.installation_repositories(installation.id), key=lambda r: r.id)
        if in_scope(state, caller, r)
    ]
    page = _paginate(request, granted, response)
    return {
        "total_count": len(granted),
        "repository_selection": installation.repository_selection,
        "repositories": [shapes.repository(state, _api(request), r) for r in page],
    }


@router.get("/repos/{owner}/{repo}")
async def get_repository(request: Request, owner: str, repo: str) -> Any:
    repository = _repository(request, owner, repo, "metadata")
    return shapes.repository(_state(request), _api(request), repository, full=True)


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}")
async def get_pull_request(request: Request, owner: str, repo: str, pull_number: int) -> Any:
    repository = _repository(request, owner, repo, "pull_requests")
    state = _state(request)
    pull = state.pull_request(repository.owner, repository.name, pull_number)
    if pull is None:
        raise GitHubError(404, "Not Found")
    return shapes.pull_request(state, _api(request), pull)


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/files")
async def list_pull_files(
    request: Request, response: Response, owner: str, repo: str, pull_number: int
) -> Any:
    repository = _repository(request, owner, repo, "pull_requests")
    state = _state(request)
    pull = state.pull_request(repository.owner, repository.name, pull_number)
    if pull is None:
        raise GitHubError(404, "Not Found")
    page = _paginate(request, pull.files[:MAX_PULL_FILES], response)
    return [shapes.diff_entry(state, _api(request), pull, f) for f in page]


@router.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
async def create_comment_reaction(
    request: Request, response: Response, owner: str, repo: str, comment_id: int
) -> Any:
    # GitHub takes either permission for reacting to a comment on a pull request.
    repository = _repository(request, owner, repo, "issues", "pull_requests", write=True)
    state = _state(request)
    comment = state.issue_comments.get(comment_id)
    if comment is None or comment.repository is not repository:
        raise GitHubError(404, "Not Found", DOCS_REACTIONS)
    content = (await _json_body(request)).get("content")
    if content not in REACTIONS:
        code = "missing_field" if content is None else "invalid"
        error = {"resource": "Reaction", "code": code, "field": "content"}
        if content is not None:
            error["value"] = content
        raise GitHubError(422, "Validation Failed", DOCS_REACTIONS, errors=[error])
    existing = next(
        (
            r
            for r in state.reactions
            if r["comment_id"] == comment_id
            and r["content"] == content
            and r["user_login"] == state.bot_login
        ),
        None,
    )
    if existing is not None:
        # GitHub's way of saying "you already reacted so": 200 and the same reaction.
        response.status_code = 200
        return shapes.reaction(state, _api(request), existing)
    record = {
        "id": state.next_id(),
        "repository": repository.full_name,
        "comment_id": comment_id,
        "content": content,
        "user_login": state.bot_login,
        "created_at": state.now(),
    }
    state.reactions.append(record)
    response.status_code = 201
    return shapes.reaction(state, _api(request), record)
