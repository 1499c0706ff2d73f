"""Check runs, as a GitHub App creates and completes them (`checks` permission), with the
rules of `check_rules.py`: at most 50 annotations a request, appended across updates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.github import shapes
from sandbox.github.check_rules import DOCS_CREATE, DOCS_UPDATE, check_body
from sandbox.github.records import CheckRun, PullRequest, Repository
from sandbox.github.rest import (
    NOT_ACCESSIBLE,
    GitHubError,
    api_of,
    int_param,
    json_body,
    paginate,
    parse_time,
    repository_for,
    state_of,
)
from sandbox.github.state import GitHubState

DOCS_GET = "https://docs.github.com/rest/checks/runs#get-a-check-run"
DOCS_LIST = "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference"
DOCS_ANNOTATIONS = "https://docs.github.com/rest/checks/runs#list-check-run-annotations"
# Annotation fields GitHub keeps (and lists back).
ANNOTATION_FIELDS = (
    "path",
    "start_line",
    "end_line",
    "start_column",
    "end_column",
    "annotation_level",
    "title",
    "message",
    "raw_details",
)

router = APIRouter()


@router.post("/repos/{owner}/{repo}/check-runs", status_code=201)
async def create_check_run(request: Request, owner: str, repo: str) -> Any:
    repository = repository_for(request, owner, repo, "checks", write=True)
    state = state_of(request)
    body = await json_body(request)
    check_body(body, create=True)
    head_sha = body["head_sha"].lower()
    if head_sha not in state.git_for(repository).commits:
        raise GitHubError(422, f"No commit found for SHA: {body['head_sha']}", DOCS_CREATE)
    now = state.now()
    suite_key = (repository.owner.lower(), repository.name.lower(), head_sha, state.app_id)
    run = CheckRun(
        id=state.next_id(),
        repository=repository,
        app_id=state.app_id,
        check_suite_id=state.check_suites.setdefault(suite_key, state.next_id()),
        name=body["name"],
        head_sha=head_sha,
        status="queued",
        conclusion=None,
        external_id=body.get("external_id"),
        details_url=body.get("details_url"),
        started_at=parse_time(body.get("started_at")) or now,
        completed_at=None,
        output={"title": None, "summary": None, "text": None},
    )
    _apply(state, run, body)
    state.check_runs[run.id] = run
    return check_run(state, api_of(request), run)


@router.patch("/repos/{owner}/{repo}/check-runs/{check_run_id}")
async def update_check_run(request: Request, owner: str, repo: str, check_run_id: int) -> Any:
    repository = repository_for(request, owner, repo, "checks", write=True)
    state = state_of(request)
    run = _find(state, repository, check_run_id, DOCS_UPDATE)
    if run.app_id != state.app_id:
        raise GitHubError(403, NOT_ACCESSIBLE, DOCS_UPDATE)
    body = await json_body(request)
    check_body(body, create=False)
    for key in ("name", "external_id", "details_url"):
        if key in body:
            setattr(run, key, body[key])
    if body.get("started_at"):
        run.started_at = parse_time(body["started_at"])
    _apply(state, run, body)
    return check_run(state, api_of(request), run)


def _apply(state: GitHubState, run: CheckRun, body: dict[str, Any]) -> None:
    """Status, conclusion, output and actions of a validated body. A conclusion completes
    the run; annotations and images are appended to those already there."""
    if body.get("conclusion") is not None:
        run.status, run.conclusion = "completed", body["conclusion"]
        run.completed_at = parse_time(body.get("completed_at")) or state.now()
    elif body.get("status") is not None:
        run.status = body["status"]
    output = body.get("output")
    if output:
        run.output = {
            "title": output.get("title"),
            "summary": output.get("summary"),
            "text": output.get("text", run.output.get("text")),
        }
        for annotation in output.get("annotations") or []:
            run.annotations.append({k: annotation.get(k) for k in ANNOTATION_FIELDS})
        run.images += list(output.get("images") or [])
    if "actions" in body:
        run.actions = [dict(a) for a in body["actions"] or []]


def _find(state: GitHubState, repository: Repository, check_run_id: int, docs: str) -> CheckRun:
    run = state.check_runs.get(check_run_id)
    if run is None or run.repository is not repository:
        raise GitHubError(404, "Not Found", docs)
    return run


@router.get("/repos/{owner}/{repo}/check-runs/{check_run_id}")
async def get_check_run(request: Request, owner: str, repo: str, check_run_id: int) -> Any:
    repository = repository_for(request, owner, repo, "checks")
    state = state_of(request)
    return check_run(state, api_of(request), _find(state, repository, check_run_id, DOCS_GET))


@router.get("/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
async def list_annotations(
    request: Request, response: Response, owner: str, repo: str, check_run_id: int
) -> Any:
    repository = repository_for(request, owner, repo, "checks")
    state = state_of(request)
    run = _find(state, repository, check_run_id, DOCS_ANNOTATIONS)
    blob = f"{state.html_url}/{repository.full_name}/blob/{run.head_sha}"
    page = paginate(request, run.annotations, response)
    return [a | {"blob_href": f"{blob}/{a['path']}"} for a in page]


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
async def list_check_runs_for_ref(
    request: Request, response: Response, owner: str, repo: str, ref: str
) -> Any:
    """Newest first. `filter=latest` (the default) keeps the newest run of each name."""
    repository = repository_for(request, owner, repo, "checks")
    state = state_of(request)
    sha = state.git_for(repository).resolve(ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}", DOCS_LIST)
    runs = sorted(
        state.check_runs_for(repository.owner, repository.name, sha),
        key=lambda r: r.id,
        reverse=True,
    )
    query = request.query_params
    if "check_name" in query:
        runs = [r for r in runs if r.name == query["check_name"]]
    if "status" in query:
        runs = [r for r in runs if r.status == query["status"]]
    if "app_id" in query:
        runs = [r for r in runs if r.app_id == int_param(request, "app_id", -1)]
    if query.get("filter", "latest") == "latest":
        newest: dict[tuple[str, int], CheckRun] = {}
        for run in runs:
            newest.setdefault((run.name, run.app_id), run)
        runs = list(newest.values())
    page = paginate(request, runs, response)
    api = api_of(request)
    return {"total_count": len(runs), "check_runs": [check_run(state, api, r) for r in page]}


def check_run(state: GitHubState, api: str, run: CheckRun) -> dict[str, Any]:
    repo = run.repository
    url = f"{api}/repos/{repo.full_name}/check-runs/{run.id}"
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": shapes.node_id("CheckRun", run.id),
        "external_id": run.external_id or "",
        "url": url,
        "html_url": f"{state.html_url}/{repo.full_name}/runs/{run.id}",
        "details_url": run.details_url or shapes.app(state, api)["external_url"],
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": shapes.iso(run.started_at),
        "completed_at": shapes.iso(run.completed_at),
        "output": {
            **run.output,
            "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.check_suite_id},
        "app": shapes.app(state, api),
        "pull_requests": [
            _minimal_pull(api, p)
            for p in state.pull_requests.values()
            if p.repository is repo and p.head_sha == run.head_sha and p.state == "open"
        ],
    }


def _minimal_pull(api: str, pull: PullRequest) -> dict[str, Any]:
    repo = pull.repository
    repo_ref = {"id": repo.id, "url": f"{api}/repos/{repo.full_name}", "name": repo.name}
    return {
        "id": pull.id,
        "number": pull.number,
        "url": f"{api}/repos/{repo.full_name}/pulls/{pull.number}",
        "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": repo_ref},
        "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": repo_ref},
    }
