"""Webhook deliveries as GitHub's Hookshot sends them: one POST per event, signed with the App's
webhook secret, recorded whatever the outcome and never retried (GitHub does not redeliver on
its own; the App asks for a redelivery through the API)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from sandbox.github import shapes
from sandbox.github.records import DeliveryRecord, Installation, Repository
from sandbox.github.state import GitHubState

USER_AGENT = "GitHub-Hookshot/7a3c1f2"


def sign(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`: HMAC-SHA256 of the exact bytes sent."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _sign_sha1(secret: str, body: bytes) -> str:
    # The legacy header GitHub still sends alongside; receivers must not trust it.
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def signed_headers(
    secret: str,
    event: str,
    body: bytes,
    guid: str,
    *,
    hook_id: int = 400_424_242,
    app_id: int = 424242,
) -> dict[str, str]:
    """Every header Hookshot sends with a delivery of `body`."""
    return {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Delivery": guid,
        "X-GitHub-Event": event,
        "X-GitHub-Hook-ID": str(hook_id),
        "X-GitHub-Hook-Installation-Target-ID": str(app_id),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-Hub-Signature": _sign_sha1(secret, body),
        "X-Hub-Signature-256": sign(secret, body),
    }


def encode(payload: dict[str, Any]) -> bytes:
    """Serialised once, compactly: the signature covers exactly these bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def deliver(
    state: GitHubState, event: str, payload: dict[str, Any], *, guid: str | None = None
) -> DeliveryRecord:
    """Send `payload` as a new delivery to `state.webhook_url` and record the attempt."""
    return await _send(state, event, encode(payload), guid or str(uuid.uuid4()), redelivery=False)


async def redeliver(state: GitHubState, delivery_id: int) -> DeliveryRecord:
    """Send a recorded delivery again: same bytes, same GUID, a new delivery id."""
    original = next(d for d in state.deliveries if d.id == delivery_id)
    return await _send(state, original.event, original.body, original.guid, redelivery=True)


async def _send(
    state: GitHubState, event: str, body: bytes, guid: str, *, redelivery: bool
) -> DeliveryRecord:
    if not state.webhook_url:
        raise RuntimeError("state.webhook_url is not set: GitHub would have nowhere to deliver")
    headers = signed_headers(
        state.webhook_secret, event, body, guid, hook_id=state.hook_id, app_id=state.app_id
    )
    payload = json.loads(body)
    delivered_at = state.now()
    started = time.perf_counter()
    status_code, status = 0, "OK"
    response_headers: dict[str, str] = {}
    response_body = ""
    try:
        async with httpx.AsyncClient(timeout=state.webhook_timeout) as client:
            response = await client.post(state.webhook_url, content=body, headers=headers)
        status_code = response.status_code
        response_headers = dict(response.headers)
        response_body = response.text
        if not 200 <= status_code < 300:
            status = f"Invalid HTTP Response: {status_code}"
    except httpx.TimeoutException:
        status = "timed out"
    except httpx.TransportError:
        status = "failed to connect"
    record = DeliveryRecord(
        id=state.next_delivery_id(),
        guid=guid,
        event=event,
        action=payload.get("action") if isinstance(payload, dict) else None,
        installation_id=_nested_id(payload, "installation"),
        repository_id=_nested_id(payload, "repository"),
        delivered_at=delivered_at,
        redelivery=redelivery,
        duration=round(time.perf_counter() - started, 3),
        status=status,
        status_code=status_code,
        url=state.webhook_url,
        body=body,
        request_headers=headers,
        response_headers=response_headers,
        response_body=response_body,
    )
    state.deliveries.append(record)
    return record


def _nested_id(payload: Any, key: str) -> int | None:
    value = payload.get(key) if isinstance(payload, dict) else None
    return value.get("id") if isinstance(value, dict) else None


# -- payloads ----------------------------------------------------------------------------


def pull_request_event(
    state: GitHubState,
    owner: str,
    name: str,
    number: int,
    action: str = "opened",
    *,
    sender: str | None = None,
    before: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `pull_request` payload for a pull request in the state (for `deliver`); `before` is
    the previous head of a `synchronize`, and `extra` adds or overrides top-level keys."""
    pull = state.pull_request(owner, name, number)
    if pull is None:
        raise KeyError(f"{owner}/{name}#{number}")
    payload = {
        "action": action,
        "number": number,
        "pull_request": shapes.pull_request(state, state.base_url, pull),
        **_context(state, pull.repository.owner, name, sender or pull.user_login),
    }
    if action == "synchronize":
        payload |= {"before": before or pull.base_sha, "after": pull.head_sha}
    return payload | extra


def issue_comment_event(
    state: GitHubState, owner: str, name: str, comment_id: int, action: str = "created"
) -> dict[str, Any]:
    """An `issue_comment` payload for a comment in the state, on a pull request when the
    state has one with the comment's issue number."""
    comment = state.issue_comments[comment_id]
    repo = comment.repository
    api = state.base_url
    issue_url = f"{api}/repos/{repo.full_name}/issues/{comment.issue_number}"
    issue: dict[str, Any] = {
        "url": issue_url,
        "number": comment.issue_number,
        "html_url": f"{state.html_url}/{repo.full_name}/issues/{comment.issue_number}",
        "state": "open",
        "user": shapes.user(state, api, comment.user_login, comment.user_type),
    }
    pull = state.pull_request(repo.owner, repo.name, comment.issue_number)
    if pull is not None:
        issue |= {
            "title": pull.title,
            "body": pull.body,
            "user": shapes.user(state, api, pull.user_login),
            "pull_request": {"url": f"{api}/repos/{repo.full_name}/pulls/{pull.number}"},
        }
    return {
        "action": action,
        "issue": issue,
        "comment": {
            "id": comment.id,
            "node_id": shapes.node_id("IssueComment", comment.id),
            "url": f"{api}/repos/{repo.full_name}/issues/comments/{comment.id}",
            "html_url": f"{issue['html_url']}#issuecomment-{comment.id}",
            "issue_url": issue_url,
            "body": comment.body,
            "user": shapes.user(state, api, comment.user_login, comment.user_type),
            "created_at": shapes.iso(comment.created_at),
            "updated_at": shapes.iso(comment.updated_at or comment.created_at),
            "author_association": "CONTRIBUTOR",
        },
        **_context(state, repo.owner, repo.name, comment.user_login),
    }


def installation_event(
    state: GitHubState,
    installation_id: int,
    action: str = "created",
    sender: str | None = None,
    *,
    requester: str | None = None,
) -> dict[str, Any]:
    """An `installation` payload (created, deleted, suspend, unsuspend,
    new_permissions_accepted) for an installation in the state, listing its repositories
    where GitHub does. `sender` defaults to the account for a user account, else "octocat"."""
    installation = state.installations[installation_id]
    api = state.base_url
    payload: dict[str, Any] = {
        "action": action,
        "installation": _installation(state, installation_id),
    }
    if action in {"created", "deleted", "new_permissions_accepted"}:
        payload["repositories"] = [
            _repository_lite(r) for r in state.installation_repositories(installation_id)
        ]
    if requester is not None:
        payload["requester"] = shapes.user(state, api, requester)
    payload["sender"] = shapes.user(state, api, sender or _account_admin(installation))
    return payload


def installation_repositories_event(
    state: GitHubState,
    installation_id: int,
    added: Sequence[str] = (),
    removed: Sequence[str] = (),
    sender: str | None = None,
) -> dict[str, Any]:
    """An `installation_repositories` payload: `added` or `removed` names repositories of
    the installation's account (GitHub sends one action at a time: "added" if any were)."""
    installation = state.installations[installation_id]
    if bool(added) == bool(removed):
        raise ValueError("name repositories either added or removed")

    def lite(names: Sequence[str]) -> list[dict[str, Any]]:
        found = [state.repository(installation.account_login, n) for n in names]
        missing = [n for n, r in zip(names, found, strict=True) if r is None]
        if missing:
            raise KeyError(f"no repositories {missing} on {installation.account_login}")
        return [_repository_lite(r) for r in found if r is not None]

    return {
        "action": "added" if added else "removed",
        "installation": _installation(state, installation_id),
        "repository_selection": installation.repository_selection,
        "repositories_added": lite(added),
        "repositories_removed": lite(removed),
        "requester": None,
        "sender": shapes.user(state, state.base_url, sender or _account_admin(installation)),
    }


def _installation(state: GitHubState, installation_id: int) -> dict[str, Any]:
    # Webhooks carry the REST object without `client_id`.
    shape = shapes.installation(state, state.base_url, state.installations[installation_id])
    shape.pop("client_id", None)
    return shape


def _account_admin(installation: Installation) -> str:
    return installation.account_login if installation.account_type == "User" else "octocat"


def _repository_lite(repository: Repository) -> dict[str, Any]:
    return {
        "id": repository.id,
        "node_id": shapes.node_id("Repository", repository.id),
        "name": repository.name,
        "full_name": repository.full_name,
        "private": repository.private,
    }


def _context(state: GitHubState, owner: str, name: str, sender: str) -> dict[str, Any]:
    """What every App webhook carries besides the event itself."""
    repo = state.repository(owner, name)
    if repo is None:
        raise KeyError(f"{owner}/{name}")
    api = state.base_url
    context: dict[str, Any] = {
        "repository": shapes.repository(state, api, repo),
        "sender": shapes.user(state, api, sender),
    }
    if repo.installation_id is not None:
        context["installation"] = {
            "id": repo.installation_id,
            "node_id": shapes.node_id("Integration::Installation", repo.installation_id),
        }
    if repo.owner_type == "Organization":
        context["organization"] = {
            "login": repo.owner,
            "id": repo.owner_id,
            "node_id": shapes.node_id("Organization", repo.owner_id),
            "url": f"{api}/orgs/{repo.owner}",
        }
    return context
