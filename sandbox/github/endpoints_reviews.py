"""Pull request reviews and their comments (`pull_requests` permission).

GitHub creates a review with all its comments or not at all: one comment whose line is not in
the diff of its file on its side, or whose range starts in another hunk, fails the whole
review with 422 and GitHub's messages run together into one sentence. The diff a comment is
checked against is the pull request's files at `commit_id` (the head unless given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.github import diffs, shapes
from sandbox.github.records import PullRequest, Review, ReviewComment
from sandbox.github.rest import (
    MAX_BODY,
    GitHubError,
    api_of,
    invalid_request,
    json_body,
    not_member,
    not_supplied,
    not_type,
    paginate,
    pull_for,
    state_of,
    unprocessable,
)
from sandbox.github.state import GitHubState

DOCS_CREATE = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
SIDES = ("LEFT", "RIGHT")
PATH_INVALID = "Pull request review thread path is invalid"
LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
START_NOT_IN_HUNK = (
    "Pull request review thread start line must be part of the same hunk as the line."
)
START_AFTER_END = "Pull request review thread start line must precede the end line."
HUNK_BLANK = "Pull request review thread diff hunk can't be blank"
NEEDS_BODY = "You need to leave a comment indicating the requested changes."
ONE_PENDING = "User can only have one pending review per pull request"
NOT_IN_PULL = "Commit is not part of the pull request"
TOO_LONG = f"Body is too long (maximum is {MAX_BODY} characters)"
# The order GitHub lists a thread's problems in (its fields' order).
THREAD_ORDER = (PATH_INVALID, LINE_NOT_IN_DIFF, START_NOT_IN_HUNK, START_AFTER_END, HUNK_BLANK)

router = APIRouter()


@dataclass
class Placement:
    """Where a valid comment lands in the diff."""

    line: int | None
    side: str | None
    start_line: int | None
    start_side: str | None
    position: int | None
    diff_hunk: str
    subject_type: str


@router.post("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
async def create_review(request: Request, owner: str, repo: str, pull_number: int) -> Any:
    pull = pull_for(request, owner, repo, pull_number, write=True)
    state = state_of(request)
    body = await json_body(request)
    lines = _schema_problems(body)
    if lines:
        raise invalid_request(lines, DOCS_CREATE)
    text, event = body.get("body") or "", body.get("event")
    comments = body.get("comments") or []
    commit_id = _commit(state, pull, body.get("commit_id"))
    if event is None and any(
        r.state == "PENDING" and r.user_login == state.bot_login
        for r in state.reviews_for(pull.repository.owner, pull.repository.name, pull.number)
    ):
        raise unprocessable([ONE_PENDING], DOCS_CREATE)
    if event in {"REQUEST_CHANGES", "COMMENT"} and not text.strip() and not comments:
        raise unprocessable([NEEDS_BODY], DOCS_CREATE)
    files = {f["filename"]: f for f in _files_at(state, pull, commit_id)}
    placements, found = [], set()
    for comment in comments:
        problems, placement = _place(files, comment)
        found.update(problems)
        placements.append(placement)
    if len(text) > MAX_BODY or any(len(c["body"]) > MAX_BODY for c in comments):
        found.add(TOO_LONG)
    if found:
        raise unprocessable([m for m in (*THREAD_ORDER, TOO_LONG) if m in found], DOCS_CREATE)
    now = state.now()
    review = Review(
        id=state.next_id(),
        repository=pull.repository,
        pull_number=pull.number,
        user_login=state.bot_login,
        body=text,
        state=EVENTS.get(event or "", "PENDING"),
        commit_id=commit_id,
        submitted_at=None if event is None else now,
    )
    state.reviews[review.id] = review
    for comment, placement in zip(comments, placements, strict=True):
        if placement is None:
            continue  # unreachable: a comment that cannot be placed fails the review
        record = ReviewComment(
            id=state.next_id(),
            review_id=review.id,
            repository=pull.repository,
            pull_number=pull.number,
            user_login=state.bot_login,
            body=comment["body"],
            path=comment["path"],
            commit_id=commit_id,
            line=placement.line,
            side=placement.side,
            start_line=placement.start_line,
            start_side=placement.start_side,
            position=placement.position,
            diff_hunk=placement.diff_hunk,
            created_at=now,
            subject_type=placement.subject_type,
        )
        state.pull_review_comments[record.id] = record
    return review_shape(state, api_of(request), review)


def _schema_problems(body: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("body", "commit_id", "event"):
        if body.get(key) is not None and not isinstance(body[key], str):
            lines.append(not_type(key, body[key], "a string"))
    if isinstance(body.get("event"), str) and body["event"] not in EVENTS:
        lines.append(not_member("event", body["event"], EVENTS))
    comments = body.get("comments")
    if comments is None:
        return lines
    if not isinstance(comments, list):
        return [*lines, not_type("comments", comments, "an array")]
    for comment in comments:
        if not isinstance(comment, dict):
            lines.append(f"For 'items', {comment!r} is not an object.")
            continue
        missing = [k for k in ("path", "body") if comment.get(k) is None]
        if missing:
            lines.append(not_supplied(missing))
        for key in ("line", "start_line", "position"):
            value = comment.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                lines.append(not_type(key, value, "an integer"))
        for key in ("side", "start_side"):
            if comment.get(key) is not None and comment[key] not in SIDES:
                lines.append(not_member(key, comment[key], SIDES))
    return lines


def _commit(state: GitHubState, pull: PullRequest, commit_id: str | None) -> str:
    if commit_id is None:
        return pull.head_sha
    git = state.git_for(pull.repository)
    if commit_id.lower() not in git.commits:
        raise GitHubError(422, f"No commit found for SHA: {commit_id}", DOCS_CREATE)
    if commit_id.lower() not in {c.sha for c in state.pull_commits(pull)}:
        raise unprocessable([NOT_IN_PULL], DOCS_CREATE)
    return commit_id.lower()


def _files_at(state: GitHubState, pull: PullRequest, commit_id: str) -> list[dict[str, Any]]:
    if commit_id == pull.head_sha:
        return pull.files
    git = state.git_for(pull.repository)
    comparison = git.compare(pull.base_sha, commit_id)
    return [] if comparison is None else comparison.files


def _place(
    files: dict[str, dict[str, Any]], comment: dict[str, Any]
) -> tuple[list[str], Placement | None]:
    """GitHub's messages for a comment that cannot go where it asks, or where it goes."""
    file = files.get(comment["path"])
    if file is None:
        return [PATH_INVALID, HUNK_BLANK], None
    if comment.get("subject_type") == "file":
        return [], Placement(None, None, None, None, None, "", "file")
    lines = diffs.parse_patch(file.get("patch"))
    side = comment.get("side") or "RIGHT"
    target = None
    if comment.get("line") is not None:
        target = diffs.find_line(lines, side, comment["line"])
    elif comment.get("position") is not None:
        target = diffs.at_position(lines, comment["position"])
        if target is not None:
            side = "LEFT" if target.kind == "-" else "RIGHT"
            target = target if target.on(side) is not None else None
    problems = [] if target is not None else [LINE_NOT_IN_DIFF]
    start = None
    if comment.get("start_line") is not None:
        start_side = comment.get("start_side") or side
        start = diffs.find_line(lines, start_side, comment["start_line"])
        if start is None or target is None or start.hunk != target.hunk:
            problems.append(START_NOT_IN_HUNK)
        elif start.position >= target.position:
            problems.append(START_AFTER_END)
    if target is None:
        return [*problems, HUNK_BLANK], None
    if problems:
        return problems, None
    return [], Placement(
        line=target.on(side),
        side=side,
        start_line=None if start is None else start.on(comment.get("start_side") or side),
        start_side=None if start is None else comment.get("start_side") or side,
        position=target.position,
        diff_hunk=diffs.diff_hunk(lines, target),
        subject_type="line",
    )


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
async def list_reviews(
    request: Request, response: Response, owner: str, repo: str, pull_number: int
) -> Any:
    pull = pull_for(request, owner, repo, pull_number)
    state = state_of(request)
    reviews = state.reviews_for(pull.repository.owner, pull.repository.name, pull.number)
    page = paginate(request, reviews, response)
    return [review_shape(state, api_of(request), r) for r in page]


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}")
async def get_review(
    request: Request, owner: str, repo: str, pull_number: int, review_id: int
) -> Any:
    pull = pull_for(request, owner, repo, pull_number)
    state = state_of(request)
    review = state.reviews.get(review_id)
    if review is None or review.repository is not pull.repository:
        raise GitHubError(404, "Not Found")
    if review.pull_number != pull.number:
        raise GitHubError(404, "Not Found")
    return review_shape(state, api_of(request), review)


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/comments")
async def list_review_comments(
    request: Request, response: Response, owner: str, repo: str, pull_number: int
) -> Any:
    """Oldest first, or as `sort` (created, updated) and `direction` ask."""
    pull = pull_for(request, owner, repo, pull_number)
    state = state_of(request)
    comments = state.review_comments(pull.repository.owner, pull.repository.name, pull.number)
    if request.query_params.get("direction") == "desc":
        comments = list(reversed(comments))
    page = paginate(request, comments, response)
    return [review_comment_shape(state, api_of(request), c) for c in page]


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments")
async def list_comments_of_review(
    request: Request, response: Response, owner: str, repo: str, pull_number: int, review_id: int
) -> Any:
    pull = pull_for(request, owner, repo, pull_number)
    state = state_of(request)
    review = state.reviews.get(review_id)
    if review is None or review.repository is not pull.repository:
        raise GitHubError(404, "Not Found")
    comments = state.review_comments(
        pull.repository.owner, pull.repository.name, pull.number, review_id
    )
    page = paginate(request, comments, response)
    return [review_comment_shape(state, api_of(request), c) for c in page]


def review_shape(state: GitHubState, api: str, review: Review) -> dict[str, Any]:
    full = review.repository.full_name
    html = f"{state.html_url}/{full}/pull/{review.pull_number}#pullrequestreview-{review.id}"
    pull_url = f"{api}/repos/{full}/pulls/{review.pull_number}"
    shape = {
        "id": review.id,
        "node_id": shapes.node_id("PullRequestReview", review.id),
        "user": shapes.user(state, api, review.user_login, review.user_type),
        "body": review.body,
        "state": review.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": review.commit_id,
        "author_association": "NONE",
    }
    if review.submitted_at is not None:
        shape["submitted_at"] = shapes.iso(review.submitted_at)
    return shape


def review_comment_shape(state: GitHubState, api: str, comment: ReviewComment) -> dict[str, Any]:
    full = comment.repository.full_name
    url = f"{api}/repos/{full}/pulls/comments/{comment.id}"
    html = f"{state.html_url}/{full}/pull/{comment.pull_number}#discussion_r{comment.id}"
    pull_url = f"{api}/repos/{full}/pulls/{comment.pull_number}"
    return {
        "url": url,
        "pull_request_review_id": comment.review_id,
        "id": comment.id,
        "node_id": shapes.node_id("PullRequestReviewComment", comment.id),
        "diff_hunk": comment.diff_hunk,
        "path": comment.path,
        "position": comment.position,
        "original_position": comment.position,
        "commit_id": comment.commit_id,
        "original_commit_id": comment.commit_id,
        "user": shapes.user(state, api, comment.user_login, comment.user_type),
        "body": comment.body,
        "created_at": shapes.iso(comment.created_at),
        "updated_at": shapes.iso(comment.created_at),
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": "NONE",
        "_links": {
            "self": {"href": url},
            "html": {"href": html},
            "pull_request": {"href": pull_url},
        },
        "start_line": comment.start_line,
        "original_start_line": comment.start_line,
        "start_side": comment.start_side,
        "line": comment.line,
        "original_line": comment.line,
        "side": comment.side,
        "subject_type": comment.subject_type,
    }
