"""The web side of a GitHub App's user-to-server OAuth flow, as github.com answers it:

- `GET /login/oauth/authorize?client_id&redirect_uri&state`: for the user signed in to
  "the browser" (`state.web_login`, set by a test), who has authorised the App before, a
  302 straight back to `redirect_uri` (which must be under one of the App's callback URLs,
  when it has any) with `code` and `state`; with nobody signed in, GitHub's sign-in page.
- `POST /login/oauth/access_token`: the code (one use, ten minutes) and the App's client
  credentials for a `ghu_` user token; failures are 200s with `error`, as GitHub sends them.
- `GET /user` with that token: the user.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sandbox.github import shapes
from sandbox.github.rest import GitHubError, api_of, caller_of, state_of

router = APIRouter()

CODE_LIFETIME = timedelta(minutes=10)
DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"


def _with(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@router.get("/login/oauth/authorize")
async def authorize(request: Request) -> Response:
    state = state_of(request)
    params = request.query_params
    if params.get("client_id") != state.client_id:
        return HTMLResponse("<h1>404 Not Found</h1>", 404)
    redirect_uri = params.get("redirect_uri") or (state.callback_urls or [None])[0]
    if redirect_uri is None or (
        state.callback_urls and not any(redirect_uri.startswith(u) for u in state.callback_urls)
    ):
        return HTMLResponse(
            "<h1>The redirect_uri is not associated with this application.</h1>", 400
        )
    if state.web_login is None:
        return HTMLResponse("<h1>Sign in to GitHub</h1><p>to continue to the App.</p>", 200)
    code = secrets.token_hex(10)
    state.oauth_codes[code] = (state.web_login, params.get("redirect_uri"), state.now())
    answer = {"code": code}
    if params.get("state") is not None:
        answer["state"] = params["state"]
    return RedirectResponse(_with(redirect_uri, answer), 302)


def _error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description, "error_uri": DOCS})


@router.post("/login/oauth/access_token")
async def access_token(request: Request) -> Response:
    state = state_of(request)
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        body: dict[str, Any] = json.loads(raw or b"{}")
    else:  # application/x-www-form-urlencoded, as OAuth clients send it
        body = dict(parse_qsl(raw.decode()))
    if body.get("client_id") != state.client_id or body.get("client_secret") != state.client_secret:
        return _error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        )
    found = state.oauth_codes.pop(str(body.get("code") or ""), None)
    if found is None or state.now() - found[2] > CODE_LIFETIME:
        return _error("bad_verification_code", "The code passed is incorrect or expired.")
    login, redirect_uri, _ = found
    if redirect_uri is not None and body.get("redirect_uri") not in (None, redirect_uri):
        return _error(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        )
    token = "ghu_" + secrets.token_urlsafe(27)
    state.user_tokens[token] = login
    return JSONResponse(
        {
            "access_token": token,
            "expires_in": 28800,
            "refresh_token": "ghr_" + secrets.token_urlsafe(54),
            "refresh_token_expires_in": 15897600,
            "token_type": "bearer",
            "scope": "",
        }
    )


@router.get("/user")
async def authenticated_user(request: Request) -> Any:
    caller = caller_of(request)
    if caller.kind != "user" or caller.login is None:
        raise GitHubError(401 if caller.kind == "anonymous" else 403, "Requires authentication")
    return shapes.user(state_of(request), api_of(request), caller.login)
