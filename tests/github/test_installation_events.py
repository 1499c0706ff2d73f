"""`installation`, `installation_repositories`, `installation_target` and `repository`
events, through the real receiver and the worker's processing, with the rows they leave."""

from __future__ import annotations

from tests.github.conftest import Hook
from tests.support.github_payloads import GitHubWorld

SECOND_REPO = {
    "id": 1296269,
    "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    "name": "octo-app",
    "full_name": "Codertocat/octo-app",
    "private": True,
}


async def test_installation_created_provisions_the_workspace(
    hook: Hook, world: GitHubWorld
) -> None:
    payload = world.installation()
    row = await hook.deliver("installation", payload)
    assert row["outcome"] == "handled", row
    assert "workspace codertocat created" in row["outcome_reason"]

    (workspace,) = await hook.rows("SELECT * FROM workspaces")
    assert workspace["slug"] == "codertocat"
    (owner,) = await hook.rows("SELECT * FROM users")
    assert owner["github_id"] == payload["sender"]["id"]
    assert workspace["owner_user_id"] == owner["id"]
    (team,) = await hook.rows("SELECT * FROM teams")
    (member,) = await hook.rows("SELECT * FROM team_members")
    assert (member["team_id"], member["user_id"], member["role"]) == (
        team["id"],
        owner["id"],
        "owner",
    )
    (subscription,) = await hook.rows(
        "SELECT s.status, p.name FROM subscriptions s JOIN plans p ON p.id = s.plan_id"
    )
    assert subscription == {"status": "active", "name": "free"}
    (connection,) = await hook.rows("SELECT status FROM connections")
    assert connection["status"] == "active"
    (installation,) = await hook.rows("SELECT * FROM installations")
    assert installation["external_id"] == world.installation_id
    assert installation["workspace_id"] == workspace["id"]
    assert installation["metadata"]["account_id"] == world.account_id
    repositories = await hook.rows("SELECT name, is_enabled, workspace_id FROM repositories")
    assert repositories == [
        {"name": world.full_name, "is_enabled": True, "workspace_id": workspace["id"]}
    ]
    actions = {r["action"] for r in await hook.rows("SELECT action FROM audit_events")}
    assert actions == {"workspace.provisioned", "installation.created"}


async def test_reinstall_links_to_the_accounts_existing_workspace(
    hook: Hook, world: GitHubWorld
) -> None:
    await hook.deliver("installation", world.installation())
    await hook.deliver("installation", world.installation("deleted"))
    world.installation_id = 999001
    row = await hook.deliver("installation", world.installation())
    assert "linked to codertocat" in row["outcome_reason"]
    assert len(await hook.rows("SELECT id FROM workspaces")) == 1
    assert len(await hook.rows("SELECT id FROM installations")) == 2
    live = await hook.rows("SELECT name FROM repositories WHERE deleted_at IS NULL")
    assert live == [{"name": world.full_name}]


async def test_installation_deleted_stops_pending_runs(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    await hook.deliver("pull_request", world.pull_request("opened"))
    row = await hook.deliver("installation", world.installation("deleted"))
    assert row["outcome_reason"] == "uninstalled; 1 pending run(s) stopped"
    (run,) = await hook.rows("SELECT status, status_reason FROM runs")
    assert run["status"] == "cancelled"
    assert run["status_reason"] == "the GitHub App was uninstalled from Codertocat"
    (installation,) = await hook.rows("SELECT deleted_at FROM installations")
    assert installation["deleted_at"] is not None
    (repository,) = await hook.rows("SELECT deleted_at FROM repositories")
    assert repository["deleted_at"] is not None
    (connection,) = await hook.rows("SELECT status FROM connections")
    assert connection["status"] == "revoked"
    # Later events for the uninstalled App start nothing.
    late = await hook.deliver("pull_request", world.pull_request("synchronize", head_sha="b" * 40))
    assert late["outcome"] == "ignored"
    assert "uninstalled" in late["outcome_reason"]


async def test_suspend_stops_runs_and_unsuspend_resumes(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    await hook.deliver("pull_request", world.pull_request("opened"))
    row = await hook.deliver("installation", world.installation("suspend"))
    assert row["outcome_reason"] == "suspended; 1 pending run(s) stopped"
    (run,) = await hook.rows("SELECT status, status_reason FROM runs")
    assert run["status"] == "cancelled"
    assert "suspended" in run["status_reason"]
    skipped = await hook.deliver(
        "pull_request",
        world.pull_request("synchronize", head_sha="b" * 40, updated_at="2026-11-20T11:00:00Z"),
    )
    assert skipped["outcome"] == "ignored"
    assert "suspended" in skipped["outcome_reason"]
    assert len(await hook.rows("SELECT id FROM runs")) == 1

    await hook.deliver("installation", world.installation("unsuspend"))
    (installation,) = await hook.rows("SELECT suspended_at FROM installations")
    assert installation["suspended_at"] is None
    resumed = await hook.deliver(
        "pull_request",
        world.pull_request("synchronize", head_sha="c" * 40, updated_at="2026-11-20T12:00:00Z"),
    )
    assert resumed["outcome"] == "handled"
    assert len(await hook.rows("SELECT id FROM runs WHERE status = 'queued'")) == 1


async def test_new_permissions_accepted_is_recorded(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    payload = world.installation("new_permissions_accepted")
    payload["installation"]["permissions"] = {"checks": "write", "pull_requests": "write"}
    row = await hook.deliver("installation", payload)
    assert row["outcome"] == "handled"
    (installation,) = await hook.rows("SELECT metadata FROM installations")
    assert installation["metadata"]["permissions"]["checks"] == "write"


async def test_repositories_added_and_removed(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    row = await hook.deliver(
        "installation_repositories", world.installation_repositories("added", [SECOND_REPO])
    )
    assert row["outcome_reason"] == "1 repository(ies) added"
    names = {r["name"] for r in await hook.rows("SELECT name FROM repositories")}
    assert names == {world.full_name, "Codertocat/octo-app"}

    await hook.deliver("pull_request", world.pull_request("opened"))
    removed_repo = {
        "id": world.repo_id,
        "node_id": "x",
        "name": world.repo_name,
        "full_name": world.full_name,
        "private": False,
    }
    row = await hook.deliver(
        "installation_repositories",
        world.installation_repositories("removed", [removed_repo]),
    )
    assert row["outcome_reason"] == "1 repository(ies) removed; 1 pending run(s) stopped"
    live = await hook.rows("SELECT name FROM repositories WHERE deleted_at IS NULL")
    assert live == [{"name": "Codertocat/octo-app"}]
    (run,) = await hook.rows("SELECT status FROM runs")
    assert run["status"] == "cancelled"
    # Added back: live again, same row.
    await hook.deliver(
        "installation_repositories", world.installation_repositories("added", [removed_repo])
    )
    assert len(await hook.rows("SELECT id FROM repositories WHERE deleted_at IS NULL")) == 2
    assert len(await hook.rows("SELECT id FROM repositories")) == 2


async def test_repositories_added_before_installation_is_retried(
    hook: Hook, world: GitHubWorld
) -> None:
    early = await hook.deliver(
        "installation_repositories", world.installation_repositories("added", [SECOND_REPO])
    )
    assert early["processed_at"] is None
    assert early["attempts"] == 1
    assert "is not known yet" in early["last_error"]
    assert early["next_attempt_at"] > early["received_at"]
    await hook.deliver("installation", world.installation())
    # GitHub redelivers it (same GUID): processed now.
    redelivered = await hook.deliver(
        "installation_repositories",
        world.installation_repositories("added", [SECOND_REPO]),
        guid=early["delivery_id"],
    )
    assert redelivered["outcome"] == "handled"
    assert redelivered["attempts"] == 2


async def test_installation_target_renamed(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    payload = {
        "action": "renamed",
        "account": {"login": "Octocatter", "id": world.account_id, "type": "User"},
        "changes": {"login": {"from": world.account_login}},
        "installation": {"id": world.installation_id},
        "target_type": "User",
        "sender": {"login": "Octocatter", "id": world.account_id},
    }
    row = await hook.deliver("installation_target", payload)
    assert row["outcome_reason"] == "account renamed from Codertocat to Octocatter"
    (repository,) = await hook.rows("SELECT name FROM repositories")
    assert repository["name"] == "Octocatter/Hello-World"
    (installation,) = await hook.rows("SELECT account_login FROM installations")
    assert installation["account_login"] == "Octocatter"


async def test_repository_renamed_transferred_edited(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    world.repo_name = "Hello-Universe"
    await hook.deliver("repository", world.repository("renamed"))
    assert (await hook.rows("SELECT name FROM repositories"))[0]["name"] == (
        "Codertocat/Hello-Universe"
    )
    world.account_login = "NewOwner"
    await hook.deliver("repository", world.repository("transferred"))
    assert (await hook.rows("SELECT name FROM repositories"))[0]["name"] == (
        "NewOwner/Hello-Universe"
    )
    await hook.deliver("repository", world.repository("edited", default_branch="trunk"))
    (repository,) = await hook.rows("SELECT name, default_branch FROM repositories")
    assert repository["default_branch"] == "trunk"
    assert len(await hook.rows("SELECT id FROM repositories")) == 1


async def test_repository_archived_and_deleted_stop_runs(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    await hook.deliver("pull_request", world.pull_request("opened"))
    row = await hook.deliver("repository", world.repository("archived", archived=True))
    assert row["outcome_reason"].endswith("archived; 1 pending run(s) stopped")
    push = world.pull_request("synchronize", head_sha="b" * 40, updated_at="2026-11-20T11:00:00Z")
    push["repository"]["archived"] = True
    no_review = await hook.deliver("pull_request", push)
    assert no_review["outcome"] == "ignored"
    assert "archived" in no_review["outcome_reason"]
    await hook.deliver("repository", world.repository("unarchived", archived=False))
    await hook.deliver(
        "pull_request",
        world.pull_request("synchronize", head_sha="c" * 40, updated_at="2026-11-20T12:00:00Z"),
    )
    row = await hook.deliver("repository", world.repository("deleted"))
    assert row["outcome_reason"] == "repository deleted; 1 pending run(s) stopped"
    (repository,) = await hook.rows("SELECT deleted_at FROM repositories")
    assert repository["deleted_at"] is not None
    statuses = sorted(r["status"] for r in await hook.rows("SELECT status FROM runs"))
    assert statuses == ["cancelled", "cancelled"]
