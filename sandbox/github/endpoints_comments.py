"""Issue comments (the conversation of an issue or pull request), as an App writes them with
`issues` or `pull_requests` access: created as the App's bot user, editable only by their
author, bodies of at most 65,536 characters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.github import shapes
from sandbox.github.records import IssueComment, Repository
from sandbox.github.rest import (
    MAX_BODY,
    NOT_ACCESSIBLE,
    GitHubError,
    api_of,
    invalid_request,
    json_body,
    not_supplied,
    not_type,
    paginate,
    parse_time,
    repository_for,
    state_of,
    validation_failed,
)
from sandbox.github.state import GitHubState

DOCS = "https://docs.github.com/rest/issues/comments"
DOCS_CREATE = f"{DOCS}#create-an-issue-comment"
DOCS_UPDATE = f"{DOCS}#update-an-issue-comment"
DOCS_LIST = f"{DOCS}#list-issue-comments"
DOCS_GET = f"{DOCS}#get-an-issue-comment"
PERMISSIONS = ("issues", "pull_requests")

router = APIRouter()


async def _body(request: Request, docs: str) -> str:
    """The comment text of a request, or GitHub's 422."""
    body = await json_body(request)
    if "body" not in body:
        raise invalid_request([not_supplied(["body"])], docs)
    text = body["body"]
    if not isinstance(text, str):
        raise invalid_request([not_type("body", text, "a string")], docs)
    if not text.strip():
        raise validation_failed(
            [{"resource": "IssueComment", "code": "missing_field", "field": "body"}], docs
        )
    if len(text) > MAX_BODY:
        message = f"Body is too long (maximum is {MAX_BODY} characters)"
        error = {"resource": "IssueComment", "code": "unprocessable", "field": "data"}
        raise validation_failed([error | {"message": message}], docs)
    return text


def _issue(request: Request, repository: Repository, number: int) -> None:
    if not state_of(request).issue_exists(repository, number):
        raise GitHubError(404, "Not Found")


def _comment(
    state: GitHubState, repository: Repository, comment_id: int, docs: str
) -> IssueComment:
    comment = state.issue_comments.get(comment_id)
    if comment is None or comment.repository is not repository:
        raise GitHubError(404, "Not Found", docs)
    return comment


@router.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", status_code=201)
async def create_comment(request: Request, owner: str, repo: str, issue_number: int) -> Any:
    repository = repository_for(request, owner, repo, *PERMISSIONS, write=True)
    _issue(request, repository, issue_number)
    text = await _body(request, DOCS_CREATE)
    state = state_of(request)
    comment = state.add_issue_comment(
        repository.owner,
        repository.name,
        None,
        text,
        state.bot_login,
        issue_number,
        user_type="Bot",
        app_id=state.app_id,
    )
    return issue_comment(state, api_of(request), comment)


@router.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}")
async def update_comment(request: Request, owner: str, repo: str, comment_id: int) -> Any:
    repository = repository_for(request, owner, repo, *PERMISSIONS, write=True)
    state = state_of(request)
    comment = _comment(state, repository, comment_id, DOCS_UPDATE)
    if comment.user_login.lower() != state.bot_login.lower():
        # An App edits what it wrote, not other people's (or other Apps') comments.
        raise GitHubError(403, NOT_ACCESSIBLE, DOCS_UPDATE)
    comment.body = await _body(request, DOCS_UPDATE)
    comment.updated_at = state.now()
    return issue_comment(state, api_of(request), comment)


@router.get("/repos/{owner}/{repo}/issues/comments/{comment_id}")
async def get_comment(request: Request, owner: str, repo: str, comment_id: int) -> Any:
    repository = repository_for(request, owner, repo, *PERMISSIONS)
    state = state_of(request)
    comment = _comment(state, repository, comment_id, DOCS_GET)
    return issue_comment(state, api_of(request), comment)


@router.get("/repos/{owner}/{repo}/issues/{issue_number}/comments")
async def list_comments(
    request: Request, response: Response, owner: str, repo: str, issue_number: int
) -> Any:
    """Oldest first; `since` keeps those updated at or after a time."""
    repository = repository_for(request, owner, repo, *PERMISSIONS)
    _issue(request, repository, issue_number)
    state = state_of(request)
    comments = state.issue_comments_on(repository.owner, repository.name, issue_number)
    try:
        since = parse_time(request.query_params.get("since"))
    except ValueError:
        since = None
    if since is not None:
        comments = [c for c in comments if (c.updated_at or c.created_at) >= since]
    page = paginate(request, comments, response)
    return [issue_comment(state, api_of(request), c) for c in page]


def issue_comment(state: GitHubState, api: str, comment: IssueComment) -> dict[str, Any]:
    full = comment.repository.full_name
    issue_url = f"{api}/repos/{full}/issues/{comment.issue_number}"
    is_pull = (
        state.pull_request(comment.repository.owner, comment.repository.name, comment.issue_number)
        is not None
    )
    page = f"{state.html_url}/{full}/{'pull' if is_pull else 'issues'}/{comment.issue_number}"
    return {
        "id": comment.id,
        "node_id": shapes.node_id("IssueComment", comment.id),
        "url": f"{api}/repos/{full}/issues/comments/{comment.id}",
        "html_url": f"{page}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": shapes.user(state, api, comment.user_login, comment.user_type),
        "created_at": shapes.iso(comment.created_at),
        "updated_at": shapes.iso(comment.updated_at or comment.created_at),
        "issue_url": issue_url,
        "author_association": "NONE" if comment.app_id else "CONTRIBUTOR",
        "performed_via_github_app": (
            shapes.app(state, api) if comment.app_id == state.app_id else None
        ),
    }
