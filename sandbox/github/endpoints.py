"""The REST endpoints the fake serves, each with GitHub's rules for who may call it.

App endpoints (`/app/...`, `/repos/{o}/{r}/installation`) take only the App's JWT. Repository
endpoints take an installation token: a repository granted to the token is fully usable (given
the permission), a public one outside it can be read but not written, and a private one outside
it does not exist (404), exactly as GitHub hides it. Requests arrive here after `app._edge` has
authenticated them and put the `Caller` on `request.state`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.github import shapes
from sandbox.github.auth import SUSPENDED, AuthError, grant, in_scope
from sandbox.github.rest import (
    GitHubError,
    api_of,
    caller_of,
    json_body,
    page_params,
    paginate,
    repository_for,
    require_app,
    state_of,
)
from sandbox.github.webhooks import redeliver

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
# GitHub's files API lists at most this many files of a pull request.
MAX_PULL_FILES = 3000
DOCS_APPS = "https://docs.github.com/rest/apps/apps"
DOCS_REACTIONS = (
    "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment"
)

router = APIRouter()


# -- the App ---------------------------------------------------------------------------------


@router.get("/app")
async def get_app(request: Request) -> Any:
    return shapes.app(require_app(request), api_of(request))


@router.get("/app/installations")
async def list_installations(request: Request, response: Response) -> Any:
    state = require_app(request)
    installations = sorted(state.installations.values(), key=lambda i: i.id)
    page = paginate(request, installations, response)
    return [shapes.installation(state, api_of(request), i) for i in page]


@router.get("/app/installations/{installation_id}")
async def get_installation(request: Request, installation_id: int) -> Any:
    state = require_app(request)
    installation = state.installations.get(installation_id)
    if installation is None:
        raise GitHubError(
            404, "Not Found", f"{DOCS_APPS}#get-an-installation-for-the-authenticated-app"
        )
    return shapes.installation(state, api_of(request), installation)


@router.post("/app/installations/{installation_id}/access_tokens", status_code=201)
async def create_access_token(request: Request, installation_id: int) -> Any:
    state = require_app(request)
    docs = f"{DOCS_APPS}#create-an-installation-access-token-for-an-app"
    installation = state.installations.get(installation_id)
    if installation is None:
        raise GitHubError(404, "Not Found", docs)
    if installation.suspended_at is not None:
        raise GitHubError(403, SUSPENDED, docs)
    body = await json_body(request)
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
            shapes.repository(state, api_of(request), r)
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
    state = require_app(request)
    repository = state.repository(owner, repo)
    if repository is None or repository.installation_id is None:
        raise GitHubError(404, "Not Found")
    return shapes.installation(
        state, api_of(request), state.installations[repository.installation_id]
    )


# -- webhook deliveries ----------------------------------------------------------------------


@router.get("/app/hook/deliveries")
async def list_deliveries(request: Request, response: Response) -> Any:
    """Newest first, paged by an opaque cursor naming the first delivery of the next page."""
    state = require_app(request)
    _, per_page = page_params(request)
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
    state = require_app(request)
    record = next((d for d in state.deliveries if d.id == delivery_id), None)
    if record is None:
        raise GitHubError(404, "Not Found")
    return shapes.delivery(record)


@router.post("/app/hook/deliveries/{delivery_id}/attempts", status_code=202)
async def redeliver_delivery(request: Request, delivery_id: int) -> Any:
    state = require_app(request)
    if not any(d.id == delivery_id for d in state.deliveries):
        raise GitHubError(404, "Not Found")
    # GitHub queues the attempt and answers at once; the fake sends it before answering so
    # that a test sees the redelivery as soon as this call returns.
    await redeliver(state, delivery_id)
    return {}


# -- repositories ----------------------------------------------------------------------------


@router.get("/installation/repositories")
async def list_installation_repositories(request: Request, response: Response) -> Any:
    state, caller = state_of(request), caller_of(request)
    if caller.token is None:
        raise GitHubError(403, "You must authenticate with an installation access token")
    installation = state.installations[caller.token.installation_id]
    granted = [
        r
        for r in sorted(state.installation_repositories(installation.id), key=lambda r: r.id)
        if in_scope(state, caller, r)
    ]
    page = paginate(request, granted, response)
    return {
        "total_count": len(granted),
        "repository_selection": installation.repository_selection,
        "repositories": [shapes.repository(state, api_of(request), r) for r in page],
    }


@router.get("/repos/{owner}/{repo}")
async def get_repository(request: Request, owner: str, repo: str) -> Any:
    repository = repository_for(request, owner, repo, "metadata")
    return shapes.repository(state_of(request), api_of(request), repository, full=True)


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}")
async def get_pull_request(request: Request, owner: str, repo: str, pull_number: int) -> Any:
    repository = repository_for(request, owner, repo, "pull_requests")
    state = state_of(request)
    pull = state.pull_request(repository.owner, repository.name, pull_number)
    if pull is None:
        raise GitHubError(404, "Not Found")
    return shapes.pull_request(state, api_of(request), pull)


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/files")
async def list_pull_files(
    request: Request, response: Response, owner: str, repo: str, pull_number: int
) -> Any:
    repository = repository_for(request, owner, repo, "pull_requests")
    state = state_of(request)
    pull = state.pull_request(repository.owner, repository.name, pull_number)
    if pull is None:
        raise GitHubError(404, "Not Found")
    page = paginate(request, pull.files[:MAX_PULL_FILES], response)
    return [shapes.diff_entry(state, api_of(request), repository, pull.head_sha, f) for f in page]


@router.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
async def create_comment_reaction(
    request: Request, response: Response, owner: str, repo: str, comment_id: int
) -> Any:
    # GitHub takes either permission for reacting to a comment on a pull request.
    repository = repository_for(request, owner, repo, "issues", "pull_requests", write=True)
    state = state_of(request)
    comment = state.issue_comments.get(comment_id)
    if comment is None or comment.repository is not repository:
        raise GitHubError(404, "Not Found", DOCS_REACTIONS)
    content = (await json_body(request)).get("content")
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
        return shapes.reaction(state, api_of(request), existing)
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
    return shapes.reaction(state, api_of(request), record)
