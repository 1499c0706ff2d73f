"""Repository contents, comparisons and a pull request's commits (read with `contents` or
`pull_requests` access). History follows the model in `git.py`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.github import shapes_git
from sandbox.github.git import blob_sha
from sandbox.github.records import Repository
from sandbox.github.rest import (
    GitHubError,
    api_of,
    paginate,
    pull_for,
    repository_for,
    state_of,
)

DOCS_CONTENTS = "https://docs.github.com/rest/repos/contents#get-repository-content"
DOCS_COMPARE = "https://docs.github.com/rest/commits/commits#compare-two-commits"
RAW_MEDIA_TYPES = {
    "application/vnd.github.raw",
    "application/vnd.github.raw+json",
    "application/vnd.github.v3.raw",
}
OBJECT_MEDIA_TYPES = {"application/vnd.github.object", "application/vnd.github.object+json"}
TOO_LARGE = (
    "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via "
    "the API, but you can use the Git Data API to request blobs up to 100 MB in size."
)
# What the compare API lists at most: commits without paging parameters, and files.
MAX_COMPARE_COMMITS = 250
MAX_COMPARE_FILES = 300
MAX_PULL_COMMITS = 250

router = APIRouter()


def _media_type(request: Request) -> str:
    accepted = [part.split(";")[0].strip() for part in request.headers.get("accept", "").split(",")]
    for media_type in accepted:
        if media_type in RAW_MEDIA_TYPES:
            return "raw"
        if media_type in OBJECT_MEDIA_TYPES:
            return "object"
    return "json"


@router.get("/repos/{owner}/{repo}/contents")
@router.get("/repos/{owner}/{repo}/contents/{path:path}")
async def get_content(request: Request, owner: str, repo: str, path: str = "") -> Any:
    repository = repository_for(request, owner, repo, "contents")
    state = state_of(request)
    git = state.git_for(repository)
    ref = request.query_params.get("ref") or repository.default_branch
    sha = git.resolve(ref)
    if sha is None:
        if not git.commits:
            raise GitHubError(404, "This repository is empty.", DOCS_CONTENTS)
        raise GitHubError(404, f"No commit found for the ref {ref}", DOCS_CONTENTS)
    tree = git.tree(sha)
    path = path.strip("/")
    api, media_type = api_of(request), _media_type(request)
    data = tree.get(path)
    if data is not None:
        if media_type == "raw":
            return Response(
                data,
                200,
                media_type="text/plain; charset=utf-8",
                headers={"x-github-media-type": "github.v3; param=raw"},
            )
        inline = len(data) <= shapes_git.INLINE_CONTENT_LIMIT
        if not inline and media_type != "object":
            raise GitHubError(
                403,
                TOO_LARGE,
                DOCS_CONTENTS,
                errors=[{"resource": "Blob", "field": "data", "code": "too_large"}],
            )
        return shapes_git.content_file(
            state, api, repository, ref, path, data, blob_sha(data), inline=inline
        )
    entries = _directory(tree, path)
    if not entries:
        raise GitHubError(404, "Not Found", DOCS_CONTENTS)
    items = [
        shapes_git.content_item(state, api, repository, ref, p, size, entry_sha)
        for p, (size, entry_sha) in sorted(entries.items())
    ]
    if media_type == "object":
        listing = shapes_git.content_item(
            state, api, repository, ref, path, -1, shapes_git.tree_sha(list(entries))
        )
        return listing | {"entries": items}
    return items


def _directory(tree: dict[str, bytes], path: str) -> dict[str, tuple[int, str]]:
    """The entries right under `path`: {path: (size, sha)}, size -1 for a directory."""
    prefix = f"{path}/" if path else ""
    entries: dict[str, tuple[int, str]] = {}
    below: dict[str, list[str]] = {}
    for name, data in tree.items():
        if not name.startswith(prefix):
            continue
        head, _, rest = name[len(prefix) :].partition("/")
        if rest:
            below.setdefault(prefix + head, []).append(name)
        else:
            entries[prefix + head] = (len(data), blob_sha(data))
    for directory, names in below.items():
        entries[directory] = (-1, shapes_git.tree_sha(names))
    return entries


@router.get("/repos/{owner}/{repo}/compare/{basehead:path}")
async def compare_commits(
    request: Request, response: Response, owner: str, repo: str, basehead: str
) -> Any:
    repository = repository_for(request, owner, repo, "contents")
    state = state_of(request)
    base, separator, head = basehead.partition("...")
    if not separator:
        base, separator, head = basehead.partition("..")
    if not separator or not base or not head:
        raise GitHubError(404, "Not Found", DOCS_COMPARE)
    git = state.git_for(repository)
    base_sha = git.resolve(_local(repository, base))
    head_sha = git.resolve(_local(repository, head))
    if base_sha is None or head_sha is None:
        raise GitHubError(404, "Not Found", DOCS_COMPARE)
    result = git.compare(base_sha, head_sha)
    if result is None:
        raise GitHubError(404, f"No common ancestor between {base} and {head}.", DOCS_COMPARE)
    paged = "page" in request.query_params or "per_page" in request.query_params
    commits = result.ahead[-MAX_COMPARE_COMMITS:]
    files: list[dict[str, Any]] | None = result.files[:MAX_COMPARE_FILES]
    if paged:
        commits = paginate(request, result.ahead, response)
        if request.query_params.get("page", "1") != "1":
            files = None
    return shapes_git.comparison(
        state, api_of(request), repository, basehead, result, commits, files
    )


def _local(repository: Repository, ref: str) -> str:
    """`owner:branch` names a branch of this repository when the owner is its owner."""
    owner, colon, name = ref.partition(":")
    return name if colon and owner.lower() == repository.owner.lower() else ref


@router.get("/repos/{owner}/{repo}/pulls/{pull_number}/commits")
async def list_pull_commits(
    request: Request, response: Response, owner: str, repo: str, pull_number: int
) -> Any:
    pull = pull_for(request, owner, repo, pull_number)
    state = state_of(request)
    commits = state.pull_commits(pull)[:MAX_PULL_COMMITS]
    page = paginate(request, commits, response)
    return [shapes_git.commit(state, api_of(request), pull.repository, c) for c in page]
