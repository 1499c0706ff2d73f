"""The GitHub simulator's OAuth web flow answers as github.com does: the authorize redirect
with code and state, one-use codes, GitHub's 200-with-`error` refusals, `GET /user`."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.github import GitHubState
from sandbox.github.server import serve_github

CALLBACK = "https://sentinel.example/console/oauth/github/callback"


async def test_the_web_flow_gives_a_user_token_once() -> None:
    state = GitHubState()
    state.callback_urls = [CALLBACK]
    state.web_login = "octocat"
    async with serve_github(state) as base, httpx.AsyncClient(base_url=base) as client:
        refused = await client.get(
            "/login/oauth/authorize",
            params={"client_id": state.client_id, "redirect_uri": "https://evil.example/cb"},
        )
        assert refused.status_code == 400
        sent = await client.get(
            "/login/oauth/authorize",
            params={"client_id": state.client_id, "redirect_uri": CALLBACK, "state": "s1"},
        )
        assert sent.status_code == 302
        location = sent.headers["location"]
        assert location.startswith(CALLBACK)
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == ["s1"]
        form = {
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            "code": query["code"][0],
            "redirect_uri": CALLBACK,
        }
        headers = {"Accept": "application/json"}
        wrong = await client.post(
            "/login/oauth/access_token", data={**form, "client_secret": "x"}, headers=headers
        )
        assert wrong.json()["error"] == "incorrect_client_credentials"
        issued = await client.post("/login/oauth/access_token", data=form, headers=headers)
        token = issued.json()["access_token"]
        assert token.startswith("ghu_")
        again = await client.post("/login/oauth/access_token", data=form, headers=headers)
        assert again.json()["error"] == "bad_verification_code"
        me = await client.get("/user", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["login"] == "octocat"
        assert (await client.get("/user")).status_code == 401
