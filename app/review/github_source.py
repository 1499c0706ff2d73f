"""What a review reads from GitHub: the pull request (with `.sentinel.yml` from the base branch
and its summary comment, in one GraphQL request), its files, a compare for incremental
reviews. Raw JSON in, plain data out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from githubkit import GitHub, Response
from githubkit.exception import RequestFailed

from app.policy.resolve import REPOSITORY_FILE
from app.review.errors import PermanentError, from_github

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
    # `.sentinel.yml` at the tip of the base branch (None: absent, binary or unreadable).
    repository_file: str | None = None
    # The App's summary comment among the PR's last `RECENT_COMMENTS` comments, if any.
    summary_comment_id: int | None = None
    # Whether those were all the PR's comments: if not, a summary not found may be older.
    all_comments_seen: bool = True


RECENT_COMMENTS = 100

# One request for all a review reads about the pull request before its files: the pull
# request, its last commit messages, `.sentinel.yml` at the tip of the base branch (a pull
# request cannot loosen its own review) and its last comments, where the summary usually is.
PULL_REQUEST_QUERY = f"""
query($owner: String!, $name: String!, $number: Int!, $file: String!) {{
  repository(owner: $owner, name: $name) {{
    pullRequest(number: $number) {{
      title body state isDraft changedFiles headRefOid baseRefOid baseRefName
      baseRef {{ target {{ ... on Commit {{ file(path: $file) {{
        object {{ ... on Blob {{ oid isBinary text }} }}
      }} }} }} }}
      commits(last: {MAX_COMMIT_MESSAGES}) {{ nodes {{ commit {{ message }} }} }}
      comments(last: {RECENT_COMMENTS}) {{ totalCount nodes {{ databaseId body viewerDidAuthor }} }}
    }}
  }}
}}
"""


async def fetch_pull_request(
    github: GitHub[Any], owner: str, repo: str, number: int, *, marker: str = ""
) -> PullRequestData:
    """The pull request in one GraphQL request; `marker` tells the App's summary comment."""
    variables = {"owner": owner, "name": repo, "number": number, "file": REPOSITORY_FILE}
    try:
        answer = await github.async_graphql(PULL_REQUEST_QUERY, variables)
    except Exception as error:
        raise from_github(error, "reading the pull request") from None
    pull = ((answer or {}).get("repository") or {}).get("pullRequest")
    if not isinstance(pull, dict):
        raise PermanentError(
            "GitHub has no such pull request: it is gone, or the App lost access to it"
        )
    comments = pull.get("comments") or {}
    nodes = [c for c in comments.get("nodes") or [] if isinstance(c, dict)]
    summary = [
        int(c["databaseId"])
        for c in nodes
        if c.get("viewerDidAuthor") and marker and marker in (c.get("body") or "")
    ]
    return PullRequestData(
        number=number,
        title=pull.get("title") or "",
        body=pull.get("body") or "",
        state="open" if pull.get("state") == "OPEN" else "closed",
        draft=bool(pull.get("isDraft")),
        head_sha=pull["headRefOid"],
        base_sha=pull["baseRefOid"],
        base_ref=pull["baseRefName"],
        commit_messages=[
            str(node["commit"]["message"])
            for node in (pull.get("commits") or {}).get("nodes") or []
            if isinstance(node, dict) and node.get("commit")
        ],
        changed_files=int(pull.get("changedFiles") or 0),
        repository_file=_blob_text(pull),
        summary_comment_id=summary[-1] if summary else None,
        all_comments_seen=int(comments.get("totalCount") or 0) <= len(nodes),
    )


def _blob_text(pull: dict[str, Any]) -> str | None:
    target = (pull.get("baseRef") or {}).get("target") or {}
    blob = (target.get("file") or {}).get("object") or {}
    text = blob.get("text")
    return None if blob.get("isBinary") or not isinstance(text, str) else text


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
