"""GitHub's JSON shapes, built from the fake's records.

Every object carries the fields GitHub's OpenAPI description marks required (githubkit
validates responses against it), with URLs on the fake's own address for the API and on
`state.html_url` for web pages, as GitHub Enterprise does with its host.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sandbox.github.records import DeliveryRecord, Installation, PullRequest, Repository
from sandbox.github.state import DEFAULT_EVENTS, DEFAULT_PERMISSIONS, GitHubState

DOCS = "https://docs.github.com/rest"


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, identifier: int) -> str:
    """GitHub's legacy global id: base64 of "<len>:<Type><id>"."""
    raw = f"0{len(kind)}:{kind}{identifier}"
    return base64.b64encode(raw.encode()).decode().rstrip("=")


def error(message: str, documentation_url: str = DOCS, **extra: Any) -> dict[str, Any]:
    return {"message": message, "documentation_url": documentation_url, **extra}


def user(state: GitHubState, api: str, login: str, kind: str = "User") -> dict[str, Any]:
    uid = state.user_id(login)
    users = f"{api}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": node_id("Bot" if kind == "Bot" else "User", uid),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": users,
        "html_url": f"{state.html_url}/{login}",
        "followers_url": f"{users}/followers",
        "following_url": f"{users}/following{{/other_user}}",
        "gists_url": f"{users}/gists{{/gist_id}}",
        "starred_url": f"{users}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{users}/subscriptions",
        "organizations_url": f"{users}/orgs",
        "repos_url": f"{users}/repos",
        "events_url": f"{users}/events{{/privacy}}",
        "received_events_url": f"{users}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def bot(state: GitHubState, api: str) -> dict[str, Any]:
    return user(state, api, state.bot_login, "Bot")


_REPO_URL_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository(
    state: GitHubState, api: str, repo: Repository, *, full: bool = False
) -> dict[str, Any]:
    """The `repository` object; `full` adds what `GET /repos/{owner}/{repo}` returns."""
    url = f"{api}/repos/{repo.full_name}"
    html = f"{state.html_url}/{repo.full_name}"
    host = state.html_url.split("://", 1)[-1]
    shape: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(state, api, repo.owner, repo.owner_type),
        "html_url": html,
        "description": None,
        "fork": False,
        "url": url,
        **{key: url + suffix for key, suffix in _REPO_URL_TEMPLATES.items()},
        "git_url": f"git://{host}/{repo.full_name}.git",
        "ssh_url": f"git@{host}:{repo.full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": 0,
        "open_issues": 0,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": iso(repo.created_at),
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.created_at),
        "license": None,
        "allow_forking": True,
        "web_commit_signoff_required": False,
    }
    if full:
        shape |= {"subscribers_count": 0, "network_count": 0}
        if repo.owner_type == "Organization":
            shape["organization"] = user(state, api, repo.owner, "Organization")
    return shape


def pull_request(state: GitHubState, api: str, pull: PullRequest) -> dict[str, Any]:
    repo = pull.repository
    repo_api = f"{api}/repos/{repo.full_name}"
    url = f"{repo_api}/pulls/{pull.number}"
    html = f"{state.html_url}/{repo.full_name}/pull/{pull.number}"
    issue = f"{repo_api}/issues/{pull.number}"
    links = {
        "self": url,
        "html": html,
        "issue": issue,
        "comments": f"{issue}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{repo_api}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": f"{repo_api}/statuses/{pull.head_sha}",
    }
    repo_shape = repository(state, api, repo)
    owner = user(state, api, repo.owner, repo.owner_type)
    closed = pull.state == "closed"
    return {
        "url": url,
        "id": pull.id,
        "node_id": node_id("PullRequest", pull.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "user": user(state, api, pull.user_login),
        "body": pull.body,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pull.created_at),
        "updated_at": iso(pull.updated_at),
        "closed_at": iso(pull.updated_at) if closed else None,
        "merged_at": iso(pull.updated_at) if pull.merged else None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": {
            "label": f"{repo.owner}:{pull.head_ref}",
            "ref": pull.head_ref,
            "sha": pull.head_sha,
            "user": owner,
            "repo": repo_shape,
        },
        "base": {
            "label": f"{repo.owner}:{pull.base_ref}",
            "ref": pull.base_ref,
            "sha": pull.base_sha,
            "user": owner,
            "repo": repo_shape,
        },
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": "CONTRIBUTOR",
        "auto_merge": None,
        "draft": pull.draft,
        "merged": pull.merged,
        "mergeable": None,
        "rebaseable": None,
        "mergeable_state": "unknown",
        "merged_by": None,
        "comments": len(state.issue_comments_on(repo.owner, repo.name, pull.number)),
        "review_comments": len(state.review_comments(repo.owner, repo.name, pull.number)),
        "maintainer_can_modify": False,
        "commits": len(state.pull_commits(pull)),
        # Totals cover every file, including those past the 3,000 the files API lists.
        "additions": sum(f["additions"] for f in pull.files),
        "deletions": sum(f["deletions"] for f in pull.files),
        "changed_files": len(pull.files),
    }


def diff_entry(
    state: GitHubState, api: str, repo: Repository, sha: str, file: dict[str, Any]
) -> dict[str, Any]:
    """A files-API entry of a change whose new side is commit `sha`."""
    full_name = repo.full_name
    path = file["filename"]
    entry = {
        "blob_url": f"{state.html_url}/{full_name}/blob/{sha}/{path}",
        "raw_url": f"{state.html_url}/{full_name}/raw/{sha}/{path}",
        "contents_url": f"{api}/repos/{full_name}/contents/{path}?ref={sha}",
    }
    return entry | file


def installation(state: GitHubState, api: str, inst: Installation) -> dict[str, Any]:
    html = f"{state.html_url}/settings/installations/{inst.id}"
    if inst.account_type == "Organization":
        html = (
            f"{state.html_url}/organizations/{inst.account_login}/settings/installations/{inst.id}"
        )
    return {
        "id": inst.id,
        "client_id": f"Iv1.{state.app_id:016x}",
        "account": user(state, api, inst.account_login, inst.account_type),
        "repository_selection": inst.repository_selection,
        "access_tokens_url": f"{api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": html,
        "app_id": state.app_id,
        "app_slug": state.slug,
        "target_id": inst.account_id,
        "target_type": inst.account_type,
        "permissions": dict(inst.permissions),
        "events": list(inst.events),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.updated_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None if inst.suspended_at is None else user(state, api, inst.account_login),
        "suspended_at": iso(inst.suspended_at),
    }


def app(state: GitHubState, api: str) -> dict[str, Any]:
    return {
        "id": state.app_id,
        "slug": state.slug,
        "client_id": f"Iv1.{state.app_id:016x}",
        "node_id": node_id("App", state.app_id),
        "owner": user(state, api, state.owner_login, "Organization"),
        "name": state.name,
        "description": "",
        "external_url": "https://sentinel.example.com",
        "html_url": f"{state.html_url}/apps/{state.slug}",
        "created_at": iso(state.created_at),
        "updated_at": iso(state.created_at),
        "permissions": dict(DEFAULT_PERMISSIONS),
        "events": list(DEFAULT_EVENTS),
        "installations_count": len(state.installations),
    }


def reaction(state: GitHubState, api: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "node_id": node_id("Reaction", record["id"]),
        "user": user(state, api, record["user_login"], "Bot"),
        "content": record["content"],
        "created_at": iso(record["created_at"]),
    }


def delivery_item(record: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "guid": record.guid,
        "delivered_at": iso(record.delivered_at),
        "redelivery": record.redelivery,
        "duration": record.duration,
        "status": record.status,
        "status_code": record.status_code,
        "event": record.event,
        "action": record.action,
        "installation_id": record.installation_id,
        "repository_id": record.repository_id,
        "throttled_at": None,
    }


def delivery(record: DeliveryRecord) -> dict[str, Any]:
    return delivery_item(record) | {
        "url": record.url,
        "request": {
            "headers": dict(record.request_headers),
            "payload": json.loads(record.body),
        },
        "response": {
            "headers": dict(record.response_headers),
            "payload": record.response_body,
        },
    }
