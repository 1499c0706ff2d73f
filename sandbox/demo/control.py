"""The sandbox's control API, under `/_sandbox/` (a prefix GitHub's REST API never uses).

The GitHub world lives in the `serve-github` process, so whoever drives the demo asks that
process to act as GitHub's users would (install the App, open a pull request) and to show
what the App posted. Every call needs `Authorization: Bearer <control token>` (from
`sandbox.json`): the control API can make GitHub send signed webhooks.

    GET  /_sandbox/status                              the App, the account, the repository
    POST /_sandbox/install                             deliver `installation.created`
    POST /_sandbox/open-pull-request {"at_least": N}   open the sample pull request (number
                                                       N or more) and deliver `pull_request.opened`
    GET  /_sandbox/pull-requests/{number}/published    what the App posted on it
    GET  /_sandbox/deliveries                          every webhook sent, with Sentinel's answer
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, Field

from sandbox.demo import sample
from sandbox.demo.statefiles import load_persisted, save_persisted
from sandbox.github import GitHubState, deliver, installation_event, pull_request_event
from sandbox.github.records import CheckRun, DeliveryRecord, IssueComment, Review, ReviewComment

PREFIX = "/_sandbox"
log = logging.getLogger("sandbox.demo")


class OpenPullRequest(BaseModel):
    at_least: int = Field(1, ge=1, le=1_000_000, description="The lowest number to use")


def delivery_out(record: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "guid": record.guid,
        "event": record.event,
        "action": record.action,
        "status_code": record.status_code,
        "status": record.status,
        "duration": record.duration,
        "response": record.response_body[:500],
    }


def _review(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "state": review.state,
        "body": review.body,
        "commit_id": review.commit_id,
        "user": review.user_login,
    }


def _review_comment(comment: ReviewComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "review_id": comment.review_id,
        "path": comment.path,
        "line": comment.line,
        "start_line": comment.start_line,
        "side": comment.side,
        "subject_type": comment.subject_type,
        "body": comment.body,
        "commit_id": comment.commit_id,
        "user": comment.user_login,
    }


def _check_run(run: CheckRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "app_id": run.app_id,
        "head_sha": run.head_sha,
        "status": run.status,
        "conclusion": run.conclusion,
        "title": run.output.get("title"),
        "summary": run.output.get("summary"),
        "annotations": run.annotations,
    }


def _issue_comment(comment: IssueComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "body": comment.body,
        "user": comment.user_login,
        "app_id": comment.app_id,
        "created_at": comment.created_at.isoformat(),
        "updated_at": (comment.updated_at or comment.created_at).isoformat(),
    }


def create_control_app(state: GitHubState, state_dir: Path, token: str) -> FastAPI:
    app = FastAPI(title="GitHub sandbox control", docs_url=None, redoc_url=None, openapi_url=None)
    numbers = _PullNumbers(state, state_dir)

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(value.strip(), token):
            raise HTTPException(401, "a bearer token from sandbox.json is required")

    guard = [Depends(authorised)]

    @app.get(f"{PREFIX}/status", dependencies=guard)
    async def status() -> dict[str, Any]:
        return {
            "app": {"id": state.app_id, "slug": state.slug, "name": state.name},
            "api_url": state.base_url,
            "webhook_url": state.webhook_url,
            "installation_id": sample.INSTALLATION_ID,
            "account": sample.OWNER,
            "repository": f"{sample.OWNER}/{sample.REPOSITORY}",
            "pull_requests": sorted(number for (_, _, number) in state.pull_requests),
        }

    @app.post(f"{PREFIX}/install", dependencies=guard)
    async def install() -> dict[str, Any]:
        payload = installation_event(state, sample.INSTALLATION_ID, "created")
        record = await deliver(state, "installation", payload)
        log.info("delivered installation.created: %s %s", record.status_code, record.status)
        return {"installation_id": sample.INSTALLATION_ID, "delivery": delivery_out(record)}

    @app.post(f"{PREFIX}/open-pull-request", dependencies=guard)
    async def open_pull_request(body: OpenPullRequest | None = None) -> dict[str, Any]:
        number = numbers.take(body.at_least if body else 1)
        pull = sample.open_sample_pull_request(state, number)
        log.info("opened %s/%s#%s at %s", sample.OWNER, sample.REPOSITORY, number, pull.head_sha)
        payload = pull_request_event(state, sample.OWNER, sample.REPOSITORY, number, "opened")
        record = await deliver(state, "pull_request", payload)
        log.info("delivered pull_request.opened: %s %s", record.status_code, record.status)
        return {
            "number": number,
            "title": pull.title,
            "user": pull.user_login,
            "head_ref": pull.head_ref,
            "base_ref": pull.base_ref,
            "head_sha": pull.head_sha,
            "base_sha": pull.base_sha,
            "files": [
                {key: f.get(key) for key in ("filename", "status", "additions", "deletions")}
                for f in pull.files
            ],
            "delivery": delivery_out(record),
        }

    @app.get(f"{PREFIX}/pull-requests/{{number}}/published", dependencies=guard)
    async def published(number: int) -> dict[str, Any]:
        pull = state.pull_request(sample.OWNER, sample.REPOSITORY, number)
        if pull is None:
            raise HTTPException(404, f"no pull request #{number}")
        owner, name = sample.OWNER, sample.REPOSITORY
        return {
            "pull_request": {"number": number, "title": pull.title, "head_sha": pull.head_sha},
            "reviews": [_review(r) for r in state.reviews_for(owner, name, number)],
            "review_comments": [
                _review_comment(c) for c in state.review_comments(owner, name, number)
            ],
            "check_runs": [_check_run(r) for r in state.check_runs_for(owner, name, pull.head_sha)],
            "issue_comments": [
                _issue_comment(c) for c in state.issue_comments_on(owner, name, number)
            ],
        }

    @app.get(f"{PREFIX}/deliveries", dependencies=guard)
    async def deliveries() -> list[dict[str, Any]]:
        return [delivery_out(record) for record in state.deliveries]

    return app


class _PullNumbers:
    """Pull request numbers never reused, even across restarts of the sandbox: Sentinel
    remembers what it posted on each pull request and would not post it again."""

    def __init__(self, state: GitHubState, state_dir: Path) -> None:
        self._state = state
        self._state_dir = state_dir

    def take(self, at_least: int) -> int:
        persisted = load_persisted(self._state_dir)
        taken = [number for (_, _, number) in self._state.pull_requests]
        number = max(at_least, int(persisted.get("next_pull_number", 1)), max(taken, default=0) + 1)
        save_persisted(self._state_dir, {**persisted, "next_pull_number": number + 1})
        return number
