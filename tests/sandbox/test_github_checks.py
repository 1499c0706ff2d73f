"""Check runs against the fake with githubkit: created and completed by the App, at most 50
annotations a request and appended across updates, GitHub's limits on output text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit.exception import RequestFailed

from sandbox.github import GitHubState
from tests.sandbox.helpers import HEAD, OWNER, REPO, as_installation, client, refusal, serve, world


def annotation(line: int, **extra: Any) -> dict[str, Any]:
    return {
        "path": "src/app.py",
        "start_line": line,
        "end_line": line,
        "annotation_level": "warning",
        "message": f"finding on line {line}",
        **extra,
    }


def output(count: int = 0, **extra: Any) -> dict[str, Any]:
    annotations = [annotation(i + 1) for i in range(count)]
    return {"title": "Sentinel", "summary": "Reviewed.", "annotations": annotations, **extra}


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
    return as_installation(client(state, url, rest_api_validate_body=False))


async def test_a_check_run_goes_from_in_progress_to_completed_with_appended_annotations(
    state: GitHubState, github: Any
) -> None:
    checks = github.rest.checks
    created = await checks.async_create(
        OWNER, REPO, name="Sentinel", head_sha=HEAD, status="in_progress", external_id="run-42"
    )
    run = created.parsed_data
    first = await checks.async_update(OWNER, REPO, run.id, output=output(50))
    last = await checks.async_update(
        OWNER,
        REPO,
        run.id,
        conclusion="neutral",
        output={**output(), "annotations": [annotation(99, annotation_level="failure")]},
    )

    assert created.status_code == 201
    assert (run.status, run.conclusion, run.external_id) == ("in_progress", None, "run-42")
    assert run.app is not None
    assert (run.app.id, run.app.slug) == (state.app_id, "sentinel-test")
    assert run.started_at is not None
    assert first.parsed_data.output.annotations_count == 50
    done = last.parsed_data
    assert (done.status, done.conclusion, done.output.annotations_count) == (
        "completed",
        "neutral",
        51,
    )
    assert done.completed_at is not None
    assert [p.number for p in done.pull_requests] == [7]
    listed = [
        a
        async for a in github.rest.paginate(
            checks.async_list_annotations, owner=OWNER, repo=REPO, check_run_id=run.id
        )
    ]
    assert [a.start_line for a in listed] == [*range(1, 51), 99]
    assert listed[-1].annotation_level == "failure"
    fetched = (await checks.async_get(OWNER, REPO, run.id)).parsed_data
    assert (fetched.output.title, fetched.output.summary) == ("Sentinel", "Reviewed.")
    (stored,) = state.check_runs_for(OWNER, REPO, HEAD)
    assert (stored.name, len(stored.annotations)) == ("Sentinel", 51)


async def test_51_annotations_in_one_request_are_refused(
    state: GitHubState, github: Any, lax: Any
) -> None:
    with pytest.raises(RequestFailed) as on_create:
        await lax.rest.checks.async_create(
            OWNER, REPO, name="Sentinel", head_sha=HEAD, output=output(51)
        )
    run = (await github.rest.checks.async_create(OWNER, REPO, name="S", head_sha=HEAD)).parsed_data
    with pytest.raises(RequestFailed) as on_update:
        await lax.rest.checks.async_update(OWNER, REPO, run.id, output=output(51))

    message = "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
    assert refusal(on_create.value)[0] == 422
    assert refusal(on_create.value)[1]["message"] == message
    assert refusal(on_update.value)[1]["message"] == message
    assert [r.name for r in state.check_runs_for(OWNER, REPO, HEAD)] == ["S"]
    assert state.check_runs_for(OWNER, REPO, HEAD)[0].annotations == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"output": output(summary="x" * 65536)},
            "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied.",
        ),
        (
            {"output": output(text="y" * 70000)},
            "Invalid request.\n\nOnly 65535 characters are allowed; 70000 were supplied.",
        ),
        ({"output": {"summary": "no title"}}, 'Invalid request.\n\n"title" wasn\'t supplied.'),
        ({"status": "completed"}, 'Invalid request.\n\n"conclusion" wasn\'t supplied.'),
        ({"conclusion": "passed"}, "is not a member of"),
        (
            {"output": {**output(), "annotations": [{"path": "a", "message": "m"}]}},
            '"annotation_level", "end_line", "start_line" weren\'t supplied.',
        ),
        (
            {"output": {**output(), "annotations": [annotation(1, annotation_level="error")]}},
            "For 'properties/annotation_level', \"error\" is not a member of",
        ),
    ],
)
async def test_check_run_bodies_githubs_schema_refuses(
    lax: Any, body: dict[str, Any], expected: str
) -> None:
    with pytest.raises(RequestFailed) as refused:
        await lax.rest.checks.async_create(OWNER, REPO, name="Sentinel", head_sha=HEAD, **body)
    status, answer = refusal(refused.value)
    assert status == 422
    assert expected in answer["message"]
    assert answer["documentation_url"] == (
        "https://docs.github.com/rest/checks/runs#create-a-check-run"
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # 30,000 characters fit the character limit, but not GitHub's byte limit.
        (
            {"output": output(summary="é" * 40000)},
            {
                "resource": "CheckRun",
                "code": "custom",
                "field": "summary",
                "message": "summary exceeds a maximum bytesize of 65535",
            },
        ),
        # Columns only on a single line.
        (
            {"output": {**output(), "annotations": [annotation(1, end_line=3, start_column=2)]}},
            {"resource": "CheckRun", "code": "invalid", "field": "annotations"},
        ),
        (
            {"output": {**output(), "annotations": [annotation(1, message="m" * 65537)]}},
            {"resource": "CheckRun", "code": "invalid", "field": "annotations"},
        ),
        (
            {"conclusion": "stale"},
            {"resource": "CheckRun", "code": "invalid", "field": "conclusion"},
        ),
    ],
)
async def test_check_run_bodies_githubs_model_refuses(
    lax: Any, body: dict[str, Any], error: dict[str, Any]
) -> None:
    with pytest.raises(RequestFailed) as refused:
        await lax.rest.checks.async_create(OWNER, REPO, name="Sentinel", head_sha=HEAD, **body)
    status, answer = refusal(refused.value)
    assert (status, answer["message"], answer["errors"]) == (422, "Validation Failed", [error])


async def test_a_check_run_needs_a_commit_github_knows(github: Any) -> None:
    with pytest.raises(RequestFailed) as refused:
        await github.rest.checks.async_create(OWNER, REPO, name="Sentinel", head_sha="d" * 40)
    assert refusal(refused.value)[0] == 422
    assert refusal(refused.value)[1]["message"] == f"No commit found for SHA: {'d' * 40}"


async def test_check_runs_for_a_ref_filter_by_name_and_app(state: GitHubState, github: Any) -> None:
    checks = github.rest.checks
    first = (await checks.async_create(OWNER, REPO, name="Sentinel", head_sha=HEAD)).parsed_data
    second = (await checks.async_create(OWNER, REPO, name="Sentinel", head_sha=HEAD)).parsed_data
    await checks.async_create(OWNER, REPO, name="Other", head_sha=HEAD)

    latest = (await checks.async_list_for_ref(OWNER, REPO, HEAD)).parsed_data
    named = (
        await checks.async_list_for_ref(
            OWNER, REPO, "feature", check_name="Sentinel", filter_="all"
        )
    ).parsed_data
    by_app = (await checks.async_list_for_ref(OWNER, REPO, HEAD, app_id=1)).parsed_data

    assert (latest.total_count, {r.name for r in latest.check_runs}) == (2, {"Sentinel", "Other"})
    assert second.id in {r.id for r in latest.check_runs}
    assert [r.id for r in named.check_runs] == [second.id, first.id]  # newest first
    assert by_app.total_count == 0
    assert first.check_suite is not None
    assert second.check_suite is not None
    assert first.check_suite.id == second.check_suite.id


async def test_injected_faults_and_permissions_apply_to_check_runs(
    state: GitHubState, url: str, github: Any
) -> None:
    state.fail_next(f"/repos/{OWNER}/{REPO}/check-runs", 502, method="POST")
    with pytest.raises(RequestFailed) as outage:
        await github.rest.checks.async_create(OWNER, REPO, name="Sentinel", head_sha=HEAD)
    app_github = client(state, url)
    readonly = app_github.with_auth(
        app_github.auth.as_installation(1001, permissions={"checks": "read"})
    )
    with pytest.raises(RequestFailed) as refused:
        await readonly.rest.checks.async_create(OWNER, REPO, name="Sentinel", head_sha=HEAD)

    assert refusal(outage.value)[0] == 502
    assert refusal(refused.value)[0] == 403
    assert state.check_runs == {}
    assert [r.method for r in state.requests if r.path.endswith("/check-runs")] == [
        "POST",
        "POST",
    ]
