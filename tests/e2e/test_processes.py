"""End to end, with real processes: GitHub (simulated) sends signed webhooks to `sentinel api`,
which queues them in Redis for `sentinel worker`, which reviews with the workspace's Anthropic
key (simulated) and publishes to GitHub. Each test has its own pull request."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from typing import Any

import pytest

from sandbox.github import installation_event
from tests.e2e.conftest import ACME, E2E, GLOBEX, IN_PROGRESS_KEY, MODEL_KEY, SLUG, TERMINAL

NOTES = "def half(x):\n    return x / 0  # BUG: always fails\n"
MORE = "def third(x):\n    return x / 3  # FIXME: integer division?\n"
# How long a restarted worker may take to finish a review its killed predecessor left.
RECOVERY_SECONDS = 15


async def test_opened_pull_request_is_reviewed_and_published(e2e: E2E) -> None:
    head = await e2e.open_pull_request(ACME, 101)
    run = await e2e.finished_run(ACME, 101, head)
    assert run["status"] == "completed", run["status_reason"]
    assert run["kind"] == "automatic"
    assert run["trigger"] == "pull_request.opened"

    # The delivery went GitHub → api (202) and was processed by the worker.
    (delivery,) = [
        d
        for d in e2e.github.deliveries
        if d.event == "pull_request" and json.loads(d.body)["number"] == 101
    ]
    assert delivery.status_code == 202
    row = await e2e.processed(delivery)
    assert row["outcome"] == "handled"

    # One review, with inline comments on the lines GitHub accepts.
    (review,) = e2e.github.reviews_for(ACME.owner, ACME.name, 101)
    assert review.state == "COMMENTED"
    comments = e2e.github.review_comments(ACME.owner, ACME.name, 101)
    placed = {(c.path, c.line) for c in comments}
    assert ("calc.py", 6) in placed  # the division by a value that may be zero (the model)
    assert ("settings.py", 1) in placed  # the committed AWS key (the static reviewer)
    assert all(c.review_id == review.id for c in comments)
    # A completed check run named Sentinel on the head, an annotation per inline comment.
    (check_run,) = e2e.github.check_runs_for(ACME.owner, ACME.name, head)
    assert check_run.name == "Sentinel"
    assert check_run.status == "completed"
    assert check_run.conclusion in ("neutral", "success", "failure")
    assert len(check_run.annotations) == len(comments)
    # One summary comment.
    (summary,) = e2e.summaries(ACME, 101)
    assert "Sentinel review" in summary.body
    # Usage: one review, and the tokens the model reported.
    usage = await e2e.usage(run["id"])
    assert usage["review"] == 1
    assert usage["llm_input_tokens"] == run["metrics"]["input_tokens"] > 0
    assert usage["llm_output_tokens"] == run["metrics"]["output_tokens"] > 0
    # The workspace's key was used for the model, and never sent to GitHub or logged.
    assert any(r.key_suffix == MODEL_KEY[-4:] for r in e2e.models.requests)
    assert all(MODEL_KEY not in str(r.json) for r in e2e.github.requests)
    assert MODEL_KEY not in e2e.worker.log_path.read_text()


async def test_a_new_push_reviews_only_the_new_changes_and_repeats_nothing(e2e: E2E) -> None:
    first_head = await e2e.open_pull_request(ACME, 102)
    first = await e2e.finished_run(ACME, 102, first_head)
    assert first["status"] == "completed", first["status_reason"]
    first_comments = e2e.github.review_comments(ACME.owner, ACME.name, 102)

    head, _ = await e2e.push(ACME, 102, "notes.py", NOTES)
    second = await e2e.finished_run(ACME, 102, head)
    assert second["status"] == "completed", second["status_reason"]
    assert second["trigger"] == "pull_request.synchronize"
    assert second["metrics"]["mode"] == f"changes since {first_head[:12]}"
    assert second["metrics"]["files_reviewed"] == 1

    # A second review, commenting on the new file only; nothing from the first repeated.
    reviews = e2e.github.reviews_for(ACME.owner, ACME.name, 102)
    assert len(reviews) == 2
    new_comments = e2e.github.review_comments(ACME.owner, ACME.name, 102, reviews[1].id)
    assert new_comments
    assert {c.path for c in new_comments} == {"notes.py"}
    all_comments = e2e.github.review_comments(ACME.owner, ACME.name, 102)
    assert len(all_comments) == len(first_comments) + len(new_comments)
    assert len({(c.path, c.line, c.body) for c in all_comments}) == len(all_comments)
    # One check run per head; the summary updated in place.
    assert len(e2e.github.check_runs_for(ACME.owner, ACME.name, head)) == 1
    assert len(e2e.github.check_runs_for(ACME.owner, ACME.name, first_head)) == 1
    assert len(e2e.summaries(ACME, 102)) == 1
    assert (await e2e.usage(second["id"]))["review"] == 1


async def test_full_review_pause_and_resume_commands(e2e: E2E) -> None:
    head = await e2e.open_pull_request(ACME, 103)
    assert (await e2e.finished_run(ACME, 103, head))["status"] == "completed"
    comments_before = len(e2e.github.review_comments(ACME.owner, ACME.name, 103))

    # `@sentinel full review`: 👀 on the comment, a manual run of everything, nothing repeated.
    comment, record = await e2e.comment(ACME, 103, f"@{SLUG} full review", "OWNER")
    await e2e.eventually(lambda: e2e.reactions_on(comment), "the full review's reaction")
    assert [r["content"] for r in e2e.reactions_on(comment)] == ["eyes"]
    assert (await e2e.processed(record))["outcome"] == "handled"
    manual: dict[str, Any] = await e2e.eventually(
        lambda: _finished_manual_run(e2e, 103), "the manual run to finish"
    )
    assert manual["status"] == "completed", manual["status_reason"]
    assert manual["trigger"] == "issue_comment.full_review"
    assert manual["metrics"]["mode"] == "full review"
    assert manual["metrics"]["already_posted"] >= 2
    assert len(e2e.github.review_comments(ACME.owner, ACME.name, 103)) == comments_before
    assert len(e2e.github.reviews_for(ACME.owner, ACME.name, 103)) == 1
    assert len(e2e.summaries(ACME, 103)) == 1

    # `@sentinel pause`: 👍, and a push while paused starts no run.
    comment, record = await e2e.comment(ACME, 103, f"@{SLUG} pause", "MEMBER")
    await e2e.eventually(lambda: e2e.reactions_on(comment), "the pause's reaction")
    assert [r["content"] for r in e2e.reactions_on(comment)] == ["+1"]
    assert (await e2e.processed(record))["outcome"] == "handled"
    runs_before = len(await e2e.runs(ACME, 103))
    paused_head, record = await e2e.push(ACME, 103, "notes.py", NOTES)
    row = await e2e.processed(record)
    assert row["outcome"] == "ignored"
    assert "paused" in row["outcome_reason"]
    assert len(await e2e.runs(ACME, 103)) == runs_before
    assert e2e.github.check_runs_for(ACME.owner, ACME.name, paused_head) == []

    # `@sentinel resume`: 👍, and the next push is reviewed again.
    comment, record = await e2e.comment(ACME, 103, f"@{SLUG} resume", "COLLABORATOR")
    await e2e.eventually(lambda: e2e.reactions_on(comment), "the resume's reaction")
    assert [r["content"] for r in e2e.reactions_on(comment)] == ["+1"]
    assert (await e2e.processed(record))["outcome"] == "handled"
    (state,) = await e2e.rows(
        "SELECT paused FROM pull_requests WHERE number = 103 AND repository_id IN "
        "(SELECT id FROM repositories WHERE name = :name)",
        name=ACME.full_name,
    )
    assert state["paused"] is False
    resumed_head, _ = await e2e.push(ACME, 103, "more.py", MORE)
    resumed = await e2e.finished_run(ACME, 103, resumed_head)
    assert resumed["status"] == "completed", resumed["status_reason"]
    assert len(e2e.github.check_runs_for(ACME.owner, ACME.name, resumed_head)) == 1
    assert len(e2e.summaries(ACME, 103)) == 1


async def _finished_manual_run(e2e: E2E, number: int) -> dict[str, Any] | None:
    manual = [r for r in await e2e.runs(ACME, number) if r["kind"] == "manual"]
    return manual[-1] if manual and manual[-1]["status"] in TERMINAL else None


async def test_a_command_from_an_outside_user_is_ignored(e2e: E2E) -> None:
    e2e.github.add_pull_request(
        ACME.owner, ACME.name, 104, "ab" * 20, e2e.base_shas[ACME], "Outside", None,
        "dev-dana", files=[{"filename": "calc.py", "status": "modified", "content": NOTES}],
    )  # fmt: skip
    calls = len(e2e.models.requests)
    comment, record = await e2e.comment(ACME, 104, f"@{SLUG} full review", "NONE", login="drive-by")
    row = await e2e.processed(record)
    assert row["outcome"] == "ignored"
    assert "may not command" in row["outcome_reason"]
    assert await e2e.runs(ACME, 104) == []
    # No acknowledgement was queued or posted, and no model was called.
    assert not await e2e.job_exists(f"ack:{row['id']}")
    assert e2e.reactions_on(comment) == []
    assert len(e2e.models.requests) == calls


async def test_uninstalling_stops_the_pending_runs(e2e: E2E) -> None:
    # Two reviews in flight: their model calls are held until after the uninstall.
    e2e.model_gate.close()
    calls = len(e2e.models.requests)
    heads = {number: await e2e.open_pull_request(GLOBEX, number) for number in (105, 106)}
    await e2e.eventually(lambda: e2e.model_gate.waiting == 2, "both reviews to call the model")
    running = [await e2e.run_for(GLOBEX, n, h) for n, h in heads.items()]
    assert [r["status"] for r in running if r] == ["running", "running"]

    # GitHub removes the installation (its tokens die with it) and tells Sentinel.
    payload = _uninstall(e2e)
    row = await e2e.processed(await e2e.deliver("installation", payload))
    assert row["outcome"] == "handled"
    assert row["outcome_reason"] == "uninstalled; 2 pending run(s) stopped"
    e2e.model_gate.open()
    for number, head in heads.items():
        run = await e2e.finished_run(GLOBEX, number, head, job_ended=True)
        assert run["status"] == "cancelled"
        assert run["status_reason"] == "the GitHub App was uninstalled from globex"
        # Nothing published, nothing billed.
        assert e2e.github.reviews_for(GLOBEX.owner, GLOBEX.name, number) == []
        assert e2e.summaries(GLOBEX, number) == []
        assert await e2e.usage(run["id"]) == {}
    assert len(e2e.models.requests) == calls + 2  # the two held calls, no other


def _uninstall(e2e: E2E) -> dict[str, Any]:
    payload = installation_event(e2e.github, GLOBEX.installation, "deleted")
    e2e.github.revoke_tokens(GLOBEX.installation)
    del e2e.github.installations[GLOBEX.installation]
    repository = e2e.github.repository(GLOBEX.owner, GLOBEX.name)
    assert repository is not None
    repository.installation_id = None
    return payload


async def test_worker_killed_mid_review_and_restarted_completes_once(
    e2e: E2E, request: pytest.FixtureRequest
) -> None:
    timings = request.node.user_properties  # in a junit report (junit_family=legacy)
    e2e.model_gate.close()
    head = await e2e.open_pull_request(ACME, 107)
    await e2e.eventually(lambda: e2e.model_gate.waiting == 1, "the review to call the model")
    await e2e.worker.kill()
    killed_at = time.monotonic()
    e2e.model_gate.open()  # the dead worker's call goes through to nobody
    run = await e2e.run_for(ACME, 107, head)
    assert run is not None
    assert run["status"] == "running"
    # Left to itself, arq re-runs the job only when its in-progress key expires (the review
    # job's timeout plus 10 s): not within the time this test allows.
    in_progress = IN_PROGRESS_KEY + str(run["id"])
    arq_alone = await e2e.redis.pttl(in_progress) / 1000
    timings.append(("arq_would_rerun_after_s", round(arq_alone)))
    assert arq_alone > RECOVERY_SECONDS

    # The restarted worker's start-up sweep resumes the abandoned run at once.
    await e2e.start_worker()
    ready_at = time.monotonic()
    run = await e2e.finished_run(ACME, 107, head, within=RECOVERY_SECONDS)
    timings.append(("recovered_after_restart_s", round(time.monotonic() - ready_at, 1)))
    timings.append(("recovered_after_kill_s", round(time.monotonic() - killed_at, 1)))
    assert run["status"] == "completed", run["status_reason"]
    calls = len(e2e.models.requests)
    _assert_published_once(e2e, 107, head)
    usage = await e2e.usage(run["id"])
    assert set(usage) == {"review", "llm_input_tokens", "llm_output_tokens"}
    assert usage["review"] == 1

    # When arq does re-run the original job (its key expired), that job does nothing.
    assert await e2e.job_exists(str(run["id"]))
    await e2e.redis.pexpire(in_progress, 1)
    await e2e.eventually(
        lambda: _not(e2e.job_exists(str(run["id"]))), "arq to re-run the original job"
    )
    assert (await e2e.run_for(ACME, 107, head)) == run
    assert len(e2e.models.requests) == calls
    _assert_published_once(e2e, 107, head)
    assert await e2e.usage(run["id"]) == usage


def _assert_published_once(e2e: E2E, number: int, head: str) -> None:
    (review,) = e2e.github.reviews_for(ACME.owner, ACME.name, number)
    comments = e2e.github.review_comments(ACME.owner, ACME.name, number)
    assert {c.review_id for c in comments} == {review.id}
    assert len({(c.path, c.line, c.body) for c in comments}) == len(comments)
    assert len(e2e.summaries(ACME, number)) == 1
    (check_run,) = e2e.github.check_runs_for(ACME.owner, ACME.name, head)
    assert check_run.status == "completed"
    assert len(check_run.annotations) == len(comments)


async def _not(value: Awaitable[bool]) -> bool:
    return not await value


async def test_pausing_mid_review_publishes_and_bills_nothing(e2e: E2E) -> None:
    e2e.model_gate.close()
    head = await e2e.open_pull_request(ACME, 108)
    await e2e.eventually(lambda: e2e.model_gate.waiting == 1, "the review to call the model")
    _, record = await e2e.comment(ACME, 108, f"@{SLUG} pause", "OWNER")
    row = await e2e.processed(record)
    assert row["outcome_reason"] == "paused by @acme-admin; 1 pending run(s) stopped"
    e2e.model_gate.open()
    run = await e2e.finished_run(ACME, 108, head, job_ended=True)
    assert run["status"] == "cancelled"
    assert run["status_reason"] == "reviews were paused on this pull request by @acme-admin"
    assert e2e.github.reviews_for(ACME.owner, ACME.name, 108) == []
    assert e2e.github.review_comments(ACME.owner, ACME.name, 108) == []
    assert e2e.summaries(ACME, 108) == []
    assert await e2e.usage(run["id"]) == {}
    # And the check run it started is not left spinning on the commit.
    (check_run,) = e2e.github.check_runs_for(ACME.owner, ACME.name, head)
    assert check_run.status == "completed"
