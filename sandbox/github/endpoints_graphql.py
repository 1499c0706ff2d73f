"""`POST /graphql`, for the two query shapes Sentinel sends, as GitHub's GraphQL API answers
them: a pull request (sandbox/github/graphql_pulls.py), and blobs of one repository by object
id, many per request under aliases:

    query($owner: String!, $name: String!, $o0: GitObjectID!, ...) {
      repository(owner: $owner, name: $name) {
        f0: object(oid: $o0) { ... on Blob { oid byteSize isBinary isTruncated text } }
        ...
      }
    }

Errors as GitHub gives them: a query the fake does not understand is a 200 with `errors`
(GitHub validates queries the same way), an unknown or inaccessible repository a `null`
repository with a NOT_FOUND or FORBIDDEN error, an unknown object a `null` alias.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.github.git import blob_sha
from sandbox.github.graphql_pulls import PULL_REQUEST, QueryError, pull_request_answer
from sandbox.github.rest import GitHubError, caller_of, repository_for, state_of

router = APIRouter()

_REPOSITORY = re.compile(r"repository\(\s*owner:\s*\$(\w+)\s*,\s*name:\s*\$(\w+)\s*\)")
_OBJECT = re.compile(r"(\w+):\s*object\(\s*oid:\s*\$(\w+)\s*\)")
# GitHub's Blob.text is cut at 512 KB (isTruncated), and null for binary blobs.
TEXT_LIMIT = 512 * 1024


def _errors(message: str, kind: str | None = None, path: list[str] | None = None) -> list[Any]:
    error: dict[str, Any] = {"message": message}
    if kind is not None:
        error["type"] = kind
    if path is not None:
        error["path"] = path
    return [error]


@router.post("/graphql")
async def graphql(request: Request) -> JSONResponse:
    body = await request.json()
    query = str(body.get("query") or "") if isinstance(body, dict) else ""
    variables = (body.get("variables") or {}) if isinstance(body, dict) else {}
    repository_match = _REPOSITORY.search(query)
    if repository_match is None:
        return JSONResponse({"errors": _errors("the fake answers repository queries only")})
    owner = str(variables.get(repository_match.group(1), ""))
    name = str(variables.get(repository_match.group(2), ""))
    asks_for_pull = PULL_REQUEST.search(query) is not None
    try:
        repository = repository_for(
            request, owner, name, "pull_requests" if asks_for_pull else "contents"
        )
    except GitHubError as error:
        forbidden = error.status == 403
        message = (
            "Resource not accessible by integration"
            if forbidden
            else f"Could not resolve to a Repository with the name '{owner}/{name}'."
        )
        kind = "FORBIDDEN" if forbidden else "NOT_FOUND"
        return JSONResponse(
            {"data": {"repository": None}, "errors": _errors(message, kind, ["repository"])}
        )
    if asks_for_pull:
        try:
            pull, errors = pull_request_answer(
                state_of(request), caller_of(request), repository, query, variables
            )
        except QueryError as error:
            return JSONResponse({"errors": _errors(str(error), "EXCESSIVE_PAGINATION")})
        answer_body: dict[str, Any] = {"data": {"repository": {"pullRequest": pull}}}
        if errors:
            answer_body["errors"] = errors
        return JSONResponse(answer_body)
    blobs = _blobs(state_of(request).git_for(repository))
    answer: dict[str, Any] = {}
    for alias, variable in _OBJECT.findall(query):
        data = blobs.get(str(variables.get(variable, "")))
        answer[alias] = _blob(data) if data is not None else None
    return JSONResponse({"data": {"repository": answer}})


def _blobs(git: Any) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for commit in git.commits.values():
        for data in commit.contents.values():
            if data is not None:
                found[blob_sha(data)] = data
    return found


def _blob(data: bytes) -> dict[str, Any]:
    binary = b"\0" in data[:8000]
    text = None if binary else data[:TEXT_LIMIT].decode("utf-8", errors="replace")
    return {
        "oid": blob_sha(data),
        "byteSize": len(data),
        "isBinary": binary,
        "isTruncated": not binary and len(data) > TEXT_LIMIT,
        "text": text,
    }
