"""The GitHub fake as an ASGI app: GitHub's edge (recording, injected faults, credentials, API
version, rate limits, response headers) in one middleware, the endpoints in `endpoints.py`.

The edge runs in GitHub's order: a refused credential is answered before an unsupported API
version, both before routing, so an unknown path with a bad token is a 401, not a 404.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.github import (
    endpoints,
    endpoints_checks,
    endpoints_comments,
    endpoints_git,
    endpoints_graphql,
    endpoints_reviews,
    manifest,
    oauth,
    shapes,
)
from sandbox.github.auth import AuthError, Caller, identify
from sandbox.github.records import Fault, RateLimitBucket, RecordedRequest
from sandbox.github.rest import GitHubError, GitHubJSON
from sandbox.github.state import GitHubState

# githubkit sends the newest by default; GitHub still serves the first dated version.
SUPPORTED_VERSIONS = ("2026-03-10", "2022-11-28")
DEFAULT_VERSION = "2022-11-28"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
VERSION_DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions"
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
# GitHub's wording for the failures tests inject most; others get the HTTP reason phrase.
FAULT_MESSAGES = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}

Handler = Callable[[Request], Awaitable[Response]]


def create_github_app(state: GitHubState) -> FastAPI:
    app = FastAPI(
        title="GitHub (fake)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=GitHubJSON,
    )
    app.state.github = state
    for module in (
        endpoints,
        endpoints_git,
        endpoints_graphql,
        endpoints_checks,
        endpoints_reviews,
        endpoints_comments,
        manifest,
        oauth,
    ):
        app.include_router(module.router)

    @app.exception_handler(GitHubError)
    async def github_error(_: Request, exc: GitHubError) -> Response:
        return GitHubJSON(shapes.error(exc.message, exc.documentation_url, **exc.extra), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        # GitHub answers an unsupported method on a known path with 404 as well.
        if exc.status_code in {404, 405}:
            return GitHubJSON(shapes.error("Not Found"), 404)
        return GitHubJSON(shapes.error(str(exc.detail)), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def unroutable(_: Request, __: RequestValidationError) -> Response:
        # Only path parameters are typed (bodies and queries are read by hand), so a
        # validation error means a path GitHub has no route for, e.g. /pulls/abc.
        return GitHubJSON(shapes.error("Not Found"), 404)

    @app.middleware("http")
    async def edge(request: Request, call_next: Handler) -> Response:
        return await _edge(state, request, call_next)

    return app


async def _edge(state: GitHubState, request: Request, call_next: Handler) -> Response:
    await state.wait_if_held(request.method, request.url.path)
    body = await request.body()
    _record(state, request, body)
    request_id = "{:04X}:{:04X}:{:06X}:{:06X}:{:08X}".format(
        *(secrets.randbits(bits) for bits in (16, 16, 24, 24, 32))
    )
    client = request.client.host if request.client else "127.0.0.1"
    version = request.headers.get("x-github-api-version")
    auth_error: AuthError | None = None
    try:
        caller = identify(state, request.headers.get("authorization"), client)
    except AuthError as error:
        auth_error, caller = error, Caller("anonymous", client)
    bucket = state.rate_limit(caller.rate_limit_key)

    fault = state.take_fault(request.method, request.url.path)
    if fault is not None:
        response = _fault_response(state, fault, caller, bucket, request_id)
    elif auth_error is not None:
        response = GitHubJSON(shapes.error(auth_error.message), auth_error.status)
    elif version is not None and version not in SUPPORTED_VERSIONS:
        response = GitHubJSON(shapes.error(_version_message(version), VERSION_DOCS), 400)
    elif bucket.remaining == 0:
        response = _primary_limit(state, caller, bucket)
    elif _secondary_limited(state, request, caller):
        response = _secondary_limit(request_id, retry_after=60)
    else:
        bucket.used += 1
        request.state.caller = caller
        response = await call_next(request)
        if request.method == "GET" and response.status_code == 200:
            response = await _conditional(request, response, caller, bucket)

    headers = response.headers
    for name, value in _rate_limit_headers(bucket).items():
        headers.setdefault(name, value)
    headers["x-github-request-id"] = request_id
    headers.setdefault("x-github-media-type", "github.v3; format=json")
    headers["x-github-api-version-selected"] = (
        version if version in SUPPORTED_VERSIONS else DEFAULT_VERSION
    )
    return response


async def _conditional(
    request: Request, response: Response, caller: Caller, bucket: RateLimitBucket
) -> Response:
    """GitHub's caching headers, and 304 for a matching If-None-Match. githubkit's HTTP
    cache revalidates every GET this way, and GitHub does not charge a 304 to the budget."""
    # call_next hands back a streaming response, typed as a plain Response.
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    etag = f'W/"{hashlib.sha256(body).hexdigest()}"'
    scope = "public" if caller.kind == "anonymous" else "private"
    cache_headers = {
        "etag": etag,
        "cache-control": f"{scope}, max-age=60, s-maxage=60",
        "vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
    }
    if etag in request.headers.get("if-none-match", ""):
        bucket.used -= 1
        return Response(status_code=304, headers=cache_headers)
    headers = {**dict(response.headers), **cache_headers}
    headers.pop("content-length", None)
    return Response(body, 200, headers=headers, media_type=response.media_type)


def _record(state: GitHubState, request: Request, body: bytes) -> None:
    headers = {name.lower(): value for name, value in request.headers.items()}
    if "authorization" in headers:
        # Keep the scheme (worth asserting on) but never the credential itself.
        headers["authorization"] = headers["authorization"].split(" ", 1)[0] + " ***"
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = None
    state.requests.append(
        RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers=headers,
            json=parsed,
        )
    )


def _rate_limit_headers(bucket: RateLimitBucket) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(bucket.limit),
        "x-ratelimit-remaining": str(bucket.remaining),
        "x-ratelimit-reset": str(bucket.reset_at),
        "x-ratelimit-used": str(bucket.used),
        "x-ratelimit-resource": "core",
    }


def _who(caller: Caller, state: GitHubState) -> str:
    if caller.token is not None:
        return f"installation ID {caller.token.installation_id}"
    return f"app ID {state.app_id}" if caller.kind == "app" else caller.client


def _primary_limit(state: GitHubState, caller: Caller, bucket: RateLimitBucket) -> Response:
    message = f"API rate limit exceeded for {_who(caller, state)}."
    if caller.kind == "anonymous":
        message += (
            " (But here's the good news: Authenticated requests get a higher rate limit. "
            "Check out the documentation for more details.)"
        )
    docs = f"{RATE_LIMIT_DOCS}#about-the-primary-rate-limit"
    return GitHubJSON(shapes.error(message, docs), 403, headers=_rate_limit_headers(bucket))


def _secondary_limit(request_id: str, retry_after: int | None, status: int = 403) -> Response:
    """GitHub's answer to a secondary rate limit: 403 or 429, the message below, and a
    `retry-after` header only sometimes (without one, clients must wait a minute or more)."""
    message = (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
        "again. If you reach out to GitHub Support for help, please include the request ID "
        f"{request_id}."
    )
    docs = f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits"
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return GitHubJSON(shapes.error(message, docs), status, headers=headers)


def _secondary_limited(state: GitHubState, request: Request, caller: Caller) -> bool:
    """GitHub's limits on content creation (every write to a repository: comments, reviews,
    check runs, reactions...): `state.secondary_writes_per_minute` a minute and
    `state.secondary_writes_per_hour` an hour per caller."""
    if request.method not in WRITE_METHODS or not request.url.path.startswith("/repos/"):
        return False
    return not state.allow_write(caller.rate_limit_key)


def _fault_response(
    state: GitHubState, fault: Fault, caller: Caller, bucket: RateLimitBucket, request_id: str
) -> Response:
    if fault.rate_limit == "secondary":
        retry_after = fault.headers.get("retry-after")
        response = _secondary_limit(
            request_id, int(retry_after) if retry_after else None, fault.status
        )
    elif fault.rate_limit == "primary":
        spent = RateLimitBucket(limit=bucket.limit, used=bucket.limit, reset_at=bucket.reset_at)
        response = _primary_limit(state, caller, spent)
        response.status_code = fault.status
    elif isinstance(fault.body, str | bytes):
        response = Response(fault.body, fault.status, media_type="text/plain; charset=utf-8")
    else:
        body = fault.body
        if body is None:
            body = shapes.error(FAULT_MESSAGES.get(fault.status) or HTTPStatus(fault.status).phrase)
        response = GitHubJSON(body, fault.status)
    for name, value in fault.headers.items():
        response.headers[name] = value
    return response


def _version_message(version: str) -> str:
    supported = ", ".join(f'"{v}"' for v in SUPPORTED_VERSIONS)
    return (
        f'The version you specified in the "X-GitHub-Api-Version" request header, "{version}", '
        f"is not a supported version. The following versions are currently supported: "
        f"{supported} (most recent first)."
    )
