"""Real GitHub webhook payloads (tests/fixtures/github-webhooks, from octokit/webhooks, MIT),
made consistent with one installation, account, repository and pull request, and checked
against GitHub's JSON Schemas so a test never sends a shape GitHub would not."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT7

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAYLOADS = FIXTURES / "github-webhooks"
SCHEMAS = FIXTURES / "github-webhook-schemas"


def load(event: str, name: str) -> dict[str, Any]:
    """`load("pull_request", "opened")` reads pull_request/opened.payload.json."""
    path = PAYLOADS / event / f"{name}.payload.json"
    if not path.exists():
        path = PAYLOADS / event / f"{name}.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.rglob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], DRAFT7.create_resource(schema)))
    return Registry().with_resources(resources)


def validate(event: str, action: str | None, payload: dict[str, Any]) -> None:
    name = f"{event}${action}" if action else event
    schema = _registry().contents(name)
    jsonschema.Draft7Validator(schema, registry=_registry()).validate(payload)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(
    secret: str, event: str, body: bytes, guid: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }


@dataclass
class GitHubWorld:
    """One App installation on one account with one repository, as payloads describe it."""

    installation_id: int = 957387
    account_login: str = "Codertocat"
    account_id: int = 21031067
    repo_id: int = 186853002
    repo_name: str = "Hello-World"
    app_id: int = 29310
    extra_repos: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.account_login}/{self.repo_name}"

    def _installation_lite(self) -> dict[str, Any]:
        return {"id": self.installation_id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}

    def _repository(self, payload: dict[str, Any]) -> None:
        repo = payload["repository"]
        repo["id"] = self.repo_id
        repo["name"] = self.repo_name
        repo["full_name"] = self.full_name
        repo["owner"]["login"] = self.account_login
        repo["owner"]["id"] = self.account_id

    def installation(self, action: str = "created") -> dict[str, Any]:
        payload = load("installation", action)
        payload["installation"]["id"] = self.installation_id
        payload["installation"]["app_id"] = self.app_id
        payload["installation"]["account"]["login"] = self.account_login
        payload["installation"]["account"]["id"] = self.account_id
        if "repositories" in payload:
            payload["repositories"] = [
                {
                    "id": self.repo_id,
                    "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
                    "name": self.repo_name,
                    "full_name": self.full_name,
                    "private": False,
                },
                *self.extra_repos,
            ]
        validate("installation", action, payload)
        return payload

    def installation_repositories(self, action: str, repos: list[dict[str, Any]]) -> dict[str, Any]:
        payload = load("installation_repositories", action)
        payload["installation"]["id"] = self.installation_id
        payload["installation"]["account"]["login"] = self.account_login
        payload["installation"]["account"]["id"] = self.account_id
        payload[f"repositories_{action}"] = repos
        validate("installation_repositories", action, payload)
        return payload

    def repository(self, action: str, **overrides: Any) -> dict[str, Any]:
        name = {"transferred": "transferred.with-installation"}.get(action, action)
        path = PAYLOADS / "repository" / f"{name}.payload.json"
        payload = load("repository", name) if path.exists() else load("repository", "renamed")
        payload["action"] = action
        payload["installation"] = self._installation_lite()
        self._repository(payload)
        payload["repository"].update(overrides)
        return payload

    def pull_request(
        self,
        action: str,
        *,
        number: int = 2,
        head_sha: str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        base_sha: str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        updated_at: str = "2026-11-20T10:00:00Z",
        draft: bool | None = None,
        merged: bool = False,
    ) -> dict[str, Any]:
        payload = load("pull_request", action)
        payload["installation"] = self._installation_lite()
        self._repository(payload)
        pr = payload["pull_request"]
        payload["number"] = number
        pr["number"] = number
        pr["head"]["sha"] = head_sha
        pr["base"]["sha"] = base_sha
        pr["updated_at"] = updated_at
        if draft is not None:
            pr["draft"] = draft
        if action == "closed":
            pr["merged"] = merged
        if action == "synchronize":
            payload["after"] = head_sha
        validate("pull_request", action, payload)
        return payload

    def comment(
        self, body: str, *, association: str = "OWNER", number: int = 2, on_pr: bool = True
    ) -> dict[str, Any]:
        payload = load("issue_comment", "created")
        payload["installation"] = self._installation_lite()
        self._repository(payload)
        payload["issue"]["number"] = number
        if on_pr:
            # GitHub marks an issue that is a PR with `issue.pull_request`.
            url = f"https://api.github.com/repos/{self.full_name}/pulls/{number}"
            payload["issue"]["pull_request"] = {
                "url": url,
                "html_url": f"https://github.com/{self.full_name}/pull/{number}",
                "diff_url": f"https://github.com/{self.full_name}/pull/{number}.diff",
                "patch_url": f"https://github.com/{self.full_name}/pull/{number}.patch",
                "merged_at": None,
            }
        payload["comment"]["body"] = body
        payload["comment"]["author_association"] = association
        validate("issue_comment", "created", payload)
        return payload

    def check_run(
        self,
        action: str = "rerequested",
        *,
        head_sha: str,
        number: int = 2,
        app_id: int | None = None,
    ) -> dict[str, Any]:
        payload = load("check_run", action)
        payload["installation"] = self._installation_lite()
        self._repository(payload)
        check_run = payload["check_run"]
        check_run["name"] = "Sentinel"
        check_run["head_sha"] = head_sha
        check_run["app"]["id"] = app_id if app_id is not None else self.app_id
        check_run["pull_requests"] = [
            {
                "url": f"https://api.github.com/repos/{self.full_name}/pulls/{number}",
                "id": 1,
                "number": number,
                "head": {
                    "ref": "feature",
                    "sha": head_sha,
                    "repo": {
                        "id": self.repo_id,
                        "url": "https://api.github.com/repos/x",
                        "name": self.repo_name,
                    },
                },
                "base": {
                    "ref": "main",
                    "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
                    "repo": {
                        "id": self.repo_id,
                        "url": "https://api.github.com/repos/x",
                        "name": self.repo_name,
                    },
                },
            }
        ]
        return copy.deepcopy(payload)
