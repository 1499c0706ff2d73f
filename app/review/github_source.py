"""What a review reads from GitHub: the pull request, its files, a compare for incremental
reviews, and `.sentinel.yml` from the base branch. Raw JSON in, plain data out."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from githubkit import GitHub, Response
from githubkit.exception import RequestFailed

from app.review.errors import from_github

# GitHub's files API returns at most 3,000 files, 100 a page.
FILES_PER_PAGE = 100
MAX_FILE_PAGES = 30
# The compare API lists at most 300 files and has no paging for them: a comparison that
# reaches this many may be missing some, so the caller reads the whole pull request instead.
COMPARE_FILE_LIMIT = 300
MAX_COMMIT_MESSAGES = 50


def raw(response: Response[Any, Any]) -> Any:
    """The response's JSON as plain data (githubkit's typed models are not needed here)."""
    return json.loads(response.content)


@dataclass(frozen=True)
class PullRequestData:
    number: int
    title: str
    body: str
    state: str
    draft: bool
    head_sha: str
    base_sha: str
    base_ref: str
    commit_messages: list[str]
    # How many files GitHub says the pull request changes (the files API lists 3,000 at most).
    changed_files: int = 0


async def fetch_pull_request(
    github: GitHub[Any], owner: str, repo: str, number: int
) -> PullRequestData:
    try:
        pull = raw(await github.rest.pulls.async_get(owner, repo, number))
        commits = raw(await github.rest.pulls.async_list_commits(owner, repo, number, per_page=100))
    except Exception as error:
        raise from_github(error, "reading the pull request") from None
    return PullRequestData(
        number=number,
        title=pull.get("title") or "",
        body=pull.get("body") or "",
        state=pull.get("state") or "open",
        draft=bool(pull.get("draft")),
        head_sha=pull["head"]["sha"],
        base_sha=pull["base"]["sha"],
        base_ref=pull["base"]["ref"],
        commit_messages=[
            c["commit"]["message"] for c in commits[-MAX_COMMIT_MESSAGES:] if c.get("commit")
        ],
        changed_files=int(pull.get("changed_files") or 0),
    )


async def fetch_pull_request_files(
    github: GitHub[Any], owner: str, repo: str, number: int
) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    try:
        for page in range(1, MAX_FILE_PAGES + 1):
            batch = raw(
                await github.rest.pulls.async_list_files(
                    owner, repo, number, per_page=FILES_PER_PAGE, page=page
                )
            )
            files.extend(batch)
            if len(batch) < FILES_PER_PAGE:
                break
    except Exception as error:
        raise from_github(error, "listing the pull request's files") from None
    return files


async def fetch_compare_files(
    github: GitHub[Any], owner: str, repo: str, base: str, head: str
) -> list[dict[str, Any]] | None:
    """Files changed between two commits, or None when the caller must review the whole pull
    request instead: GitHub cannot compare them (a force push removed `base`), or the
    comparison reaches the 300 files compare lists at most, so some may be missing."""
    try:
        compared = raw(
            await github.rest.repos.async_compare_commits(owner, repo, f"{base}...{head}")
        )
    except RequestFailed as error:
        if error.response.status_code in (404, 422):
            return None
        raise from_github(error, "comparing commits") from None
    except Exception as error:
        raise from_github(error, "comparing commits") from None
    files = list(compared.get("files") or [])
    if len(files) >= COMPARE_FILE_LIMIT:
        return None
    return files


async def fetch_repository_file(
    github: GitHub[Any], owner: str, repo: str, path: str, ref: str
) -> str | None:
    """A text file at `ref`, or None when there is none."""
    try:
        content = raw(await github.rest.repos.async_get_content(owner, repo, path, ref=ref))
    except RequestFailed as error:
        if error.response.status_code == 404:
            return None
        raise from_github(error, f"reading {path}") from None
    except Exception as error:
        raise from_github(error, f"reading {path}") from None
    if not isinstance(content, dict) or content.get("type") != "file":
        return None
    try:
        return base64.b64decode(content.get("content") or "").decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
