"""The pull request as GitHub's GraphQL API answers the one query shape Sentinel sends for it
(app/review/github_source.py): the pull request's fields, `.sentinel.yml` at the tip of the
base branch, its last commits and its last comments.

    repository(owner: $owner, name: $name) {
      pullRequest(number: $number) {
        title body state isDraft changedFiles headRefOid baseRefOid baseRefName
        baseRef { target { ... on Commit { file(path: $file) { object { ... on Blob {...} } } } } }
        commits(last: N) { nodes { commit { message } } }
        comments(last: N) { totalCount nodes { databaseId body viewerDidAuthor } }
      }
    }

Every field of that shape is answered whatever the selection (the fake does not parse
selections); GitHub's limits are kept: `last` at most 100, `state` OPEN, CLOSED or MERGED,
`viewerDidAuthor` true for what the calling installation's App wrote.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.github.auth import Caller
from sandbox.github.git import blob_sha
from sandbox.github.records import PullRequest, Repository
from sandbox.github.state import GitHubState

PULL_REQUEST = re.compile(r"pullRequest\(\s*number:\s*\$(\w+)\s*\)")
_FILE = re.compile(r"file\(\s*path:\s*\$(\w+)\s*\)")
_COMMITS = re.compile(r"commits\(\s*last:\s*(\d+)\s*\)")
_COMMENTS = re.compile(r"comments\(\s*last:\s*(\d+)\s*\)")
MAX_CONNECTION = 100


class QueryError(Exception):
    """A query GitHub would refuse as a whole (200 with `errors`, no `data`)."""


def _last(pattern: re.Pattern[str], query: str) -> int:
    match = pattern.search(query)
    count = int(match.group(1)) if match else MAX_CONNECTION
    if not 1 <= count <= MAX_CONNECTION:
        raise QueryError(
            f"Requesting {count} records on the connection exceeds the `last` limit of "
            f"{MAX_CONNECTION} records."
        )
    return count


def pull_request_answer(
    state: GitHubState,
    caller: Caller,
    repository: Repository,
    query: str,
    variables: dict[str, Any],
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The `pullRequest` field's value and the errors GitHub would add."""
    match = PULL_REQUEST.search(query)
    number = variables.get(match.group(1)) if match else None
    pull = (
        state.pull_request(repository.owner, repository.name, number)
        if isinstance(number, int)
        else None
    )
    if pull is None:
        return None, [
            {
                "type": "NOT_FOUND",
                "path": ["repository", "pullRequest"],
                "message": f"Could not resolve to a PullRequest with the number of {number}.",
            }
        ]
    file_match = _FILE.search(query)
    path = str(variables.get(file_match.group(1), "")) if file_match else ""
    commits = state.pull_commits(pull)[-_last(_COMMITS, query) :]
    comments = state.issue_comments_on(repository.owner, repository.name, pull.number)
    shown = comments[-_last(_COMMENTS, query) :]
    return {
        "title": pull.title,
        "body": pull.body or "",
        "state": "MERGED" if pull.merged else pull.state.upper(),
        "isDraft": pull.draft,
        "changedFiles": len(pull.files),
        "headRefOid": pull.head_sha,
        "baseRefOid": pull.base_sha,
        "baseRefName": pull.base_ref,
        "baseRef": _base_ref(state, pull, path),
        "commits": {"nodes": [{"commit": {"message": c.message}} for c in commits]},
        "comments": {
            "totalCount": len(comments),
            "nodes": [
                {
                    "databaseId": c.id,
                    "body": c.body,
                    "viewerDidAuthor": caller.token is not None
                    and c.app_id is not None
                    and c.app_id == state.app_id,
                }
                for c in shown
            ],
        },
    }, []


def _base_ref(state: GitHubState, pull: PullRequest, path: str) -> dict[str, Any] | None:
    git = state.git_for(pull.repository)
    tip = git.resolve(pull.base_ref) if pull.base_ref in git.branches else None
    if tip is None:
        return None  # the base branch is gone
    data = git.tree(tip).get(path.strip("/")) if path else None
    entry = None
    if data is not None:
        binary = b"\0" in data[:8000]
        text = None if binary else data.decode("utf-8", errors="replace")
        entry = {"object": {"oid": blob_sha(data), "isBinary": binary, "text": text}}
    return {"target": {"oid": tip, "file": entry}}
