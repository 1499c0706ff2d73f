"""Pull request reviews against the fake with githubkit: a review goes in whole or not at all,
and GitHub's 422 for a comment off the diff or a range across hunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit.exception import RequestFailed, SecondaryRateLimitExceeded

from sandbox.github import GitHubState
from tests.sandbox.helpers import (
    APP_PATCH,
    HEAD,
    PR,
    as_installation,
    client,
    refusal,
    serve,
    world,
)

OFF_DIFF = (
    "Pull request review thread line must be part of the diff and "
    "Pull request review thread diff hunk can't be blank"
)
ACROSS_HUNKS = "Pull request review thread start line must be part of the same hunk as the line."


@pytest.fixture
def state() -> GitHubState:
    return world()


@pytest.fixture
async def url(state: GitHubState) -> AsyncIterator[str]:
    async for served in serve(state):
        yield served


@pytest.fixture
def github(state: GitHubState, url: str) -> Any:
    return as_installation(client(state, url))


@pytest.fixture
def lax(state: GitHubState, url: str) -> Any:
    """A client that sends bodies githubkit's own validation would stop."""
    return as_installation(client(state, url, rest_api_validate_body=False))


async def test_a_review_with_comments_on_both_sides_is_stored_whole(
    state: GitHubState, github: Any
) -> None:
    created = await github.rest.pulls.async_create_review(
        *PR,
        commit_id=HEAD,
        body="Two findings.",
        event="COMMENT",
        comments=[
            {"path": "src/app.py", "body": "added line", "line": 3, "side": "RIGHT"},
            {"path": "src/app.py", "body": "context line", "line": 22, "side": "RIGHT"},
            {"path": "src/app.py", "body": "deleted line", "line": 2, "side": "LEFT"},
            {
                "path": "src/app.py",
                "body": "a range",
                "start_line": 1,
                "start_side": "RIGHT",
                "line": 4,
                "side": "RIGHT",
            },
        ],
    )

    review = created.parsed_data
    assert created.status_code == 200  # GitHub answers 200, not 201, for a new review
    assert (review.state, review.commit_id, review.body) == ("COMMENTED", HEAD, "Two findings.")
    assert review.user is not None
    assert (review.user.login, review.user.type) == ("sentinel-test[bot]", "Bot")
    listed = (await github.rest.pulls.async_list_reviews(*PR)).parsed_data
    assert [r.id for r in listed] == [review.id]
    comments = (await github.rest.pulls.async_list_review_comments(*PR)).parsed_data
    assert [(c.path, c.line, c.side, c.start_line, c.position) for c in comments] == [
        ("src/app.py", 3, "RIGHT", None, 4),
        ("src/app.py", 22, "RIGHT", None, 10),
        ("src/app.py", 2, "LEFT", None, 2),
        ("src/app.py", 4, "RIGHT", 1, 5),
    ]
    assert {(c.pull_request_review_id, c.commit_id) for c in comments} == {(review.id, HEAD)}
    assert comments[0].diff_hunk == APP_PATCH[: APP_PATCH.index("\n \n")]
    assert [c.body for c in state.review_comments(*PR)] == [c.body for c in comments]
    assert [r.state for r in state.reviews_for(*PR)] == ["COMMENTED"]


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ({"line": 10, "side": "RIGHT"}, OFF_DIFF),  # between the hunks
        ({"line": 2, "side": "RIGHT"}, None),  # an added line: fine on the right...
        ({"line": 4, "side": "LEFT"}, OFF_DIFF),  # ...but old line 4 is not in the diff
        ({"line": 20, "side": "LEFT"}, None),  # old line 20 is context in hunk two
        ({"line": 40}, OFF_DIFF),  # side defaults to RIGHT
        ({"start_line": 3, "line": 20}, ACROSS_HUNKS),
        (
            {"start_line": 12, "line": 20},
            ACROSS_HUNKS,  # a start outside every hunk is not in the line's hunk either
        ),
        (
            {"start_line": 3, "line": 3},
            "Pull request review thread start line must precede the end line.",
        ),
        (
            {"start_line": 40, "line": 41},
            "Pull request review thread line must be part of the diff, Pull request review "
            "thread start line must be part of the same hunk as the line., and Pull request "
            "review thread diff hunk can't be blank",
        ),
    ],
)
async def test_comments_must_be_on_lines_of_the_diff(
    state: GitHubState, github: Any, comment: dict[str, Any], message: str | None
) -> None:
    comments = [{"path": "src/app.py", "body": "x", **comment}]
    if message is None:
        created = await github.rest.pulls.async_create_review(
            *PR, event="COMMENT", comments=comments
        )
        assert created.status_code == 200
        return
    with pytest.raises(RequestFailed) as refused:
        await github.rest.pulls.async_create_review(*PR, event="COMMENT", comments=comments)
    assert refusal(refused.value) == (
        422,
        {
            "message": "Unprocessable Entity",
            "errors": [message],
            "documentation_url": (
                "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
            ),
        },
    )


async def test_one_bad_comment_fails_the_whole_review(state: GitHubState, github: Any) -> None:
    with pytest.raises(RequestFailed) as refused:
        await github.rest.pulls.async_create_review(
            *PR,
            body="Three findings, one misplaced.",
            event="REQUEST_CHANGES",
            comments=[
                {"path": "src/app.py", "body": "fine", "line": 3},
                {"path": "src/app.py", "body": "off the diff", "line": 12},
                {"path": "docs/nope.md", "body": "not in the PR", "line": 1},
            ],
        )

    status, body = refusal(refused.value)
    assert status == 422
    assert body["errors"] == [
        "Pull request review thread path is invalid, Pull request review thread line must be "
        "part of the diff, and Pull request review thread diff hunk can't be blank"
    ]
    assert state.reviews_for(*PR) == []
    assert state.review_comments(*PR) == []


async def test_bodies_and_events_follow_githubs_rules(state: GitHubState, lax: Any) -> None:
    review = lax.rest.pulls.async_create_review
    with pytest.raises(RequestFailed) as blank:
        await review(*PR, event="REQUEST_CHANGES")
    with pytest.raises(RequestFailed) as too_long:
        await review(*PR, event="COMMENT", body="x" * 65537)
    with pytest.raises(RequestFailed) as bad_event:
        await review(*PR, event="REJECT", body="no")
    with pytest.raises(RequestFailed) as bad_side:
        await review(
            *PR, event="COMMENT", comments=[{"path": "a", "body": "b", "line": 1, "side": "UP"}]
        )
    # Inline comments alone make a COMMENT review; the longest body GitHub takes is fine.
    only_comments = await review(
        *PR, event="COMMENT", comments=[{"path": "README.md", "body": "hi", "line": 1}]
    )
    longest = await review(*PR, event="APPROVE", body="x" * 65536)

    assert refusal(blank.value)[1]["errors"] == [
        "You need to leave a comment indicating the requested changes."
    ]
    assert refusal(too_long.value)[1]["errors"] == [
        "Body is too long (maximum is 65536 characters)"
    ]
    assert refusal(bad_event.value)[1]["message"].startswith("Invalid request.\n\n")
    assert "properties/side" in refusal(bad_side.value)[1]["message"]
    assert (only_comments.parsed_data.state, only_comments.parsed_data.body) == ("COMMENTED", "")
    assert longest.parsed_data.state == "APPROVED"


async def test_a_review_on_an_unknown_commit_is_refused(github: Any) -> None:
    with pytest.raises(RequestFailed) as refused:
        await github.rest.pulls.async_create_review(
            *PR, commit_id="c" * 40, event="COMMENT", body="hm"
        )
    assert refusal(refused.value) == (
        422,
        {
            "message": f"No commit found for SHA: {'c' * 40}",
            "documentation_url": (
                "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
            ),
        },
    )


async def test_comments_are_checked_against_the_diff_at_their_commit(
    state: GitHubState, github: Any
) -> None:
    # A push adds a file: the old head's diff does not have it, the new one does.
    state.add_commit(
        *PR[:2],
        "c" * 40,
        HEAD,
        files=[{"filename": "new.py", "status": "added", "patch": "@@ -0,0 +1 @@\n+x = 1"}],
    )
    state.update_pull_request(*PR, head_sha="c" * 40)
    comment = [{"path": "new.py", "body": "about x", "line": 1}]

    with pytest.raises(RequestFailed) as outdated:
        await github.rest.pulls.async_create_review(
            *PR, commit_id=HEAD, event="COMMENT", comments=comment
        )
    current = await github.rest.pulls.async_create_review(*PR, event="COMMENT", comments=comment)

    assert "path is invalid" in refusal(outdated.value)[1]["errors"][0]
    assert current.parsed_data.commit_id == "c" * 40


async def test_reviews_are_content_creation_for_the_secondary_limit(
    state: GitHubState, github: Any
) -> None:
    state.secondary_writes_per_minute = 1
    await github.rest.pulls.async_create_review(*PR, event="COMMENT", body="first")
    with pytest.raises(SecondaryRateLimitExceeded) as limited:
        await github.rest.pulls.async_create_review(*PR, event="COMMENT", body="second")
    assert limited.value.response.headers["retry-after"] == "60"
    assert len(state.reviews_for(*PR)) == 1


async def test_a_token_without_pull_request_access_cannot_review(
    state: GitHubState, url: str
) -> None:
    github = client(state, url)
    narrowed = github.with_auth(github.auth.as_installation(1001, permissions={"contents": "read"}))
    with pytest.raises(RequestFailed) as refused:
        await narrowed.rest.pulls.async_create_review(*PR, event="COMMENT", body="hi")
    assert refusal(refused.value) == (
        403,
        {
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest",
        },
    )
