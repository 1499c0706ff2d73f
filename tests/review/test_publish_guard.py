"""The publish-time block itself: a body holding a credential or active markup never reaches
GitHub, whatever produced it, and the run says so in its audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.review.conftest import SECRET, World

# Shaped like the real thing (prefix + 36 characters), never a live credential.
INSTALLATION_TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PERSONAL_TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
FINE_GRAINED = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"


def _finding(body: str, *, line: int = 6) -> dict[str, Any]:
    return {"path": "calc.py", "line_start": line, "line_end": line, "severity": "warning",
            "category": "bug", "title": "Division by zero", "body": body, "suggestion": None,
            "confidence": 0.9}  # fmt: skip


def _posted(world: World) -> str:
    return "\n".join(str(request.json) for request in world.github.requests)


async def _blocked_events(world: World) -> list[dict[str, Any]]:
    return await world.hook.rows(
        "SELECT metadata FROM audit_events WHERE action = 'publish.blocked' ORDER BY created_at"
    )


@pytest.mark.parametrize(
    ("credential", "kind"),
    [
        (INSTALLATION_TOKEN, "a GitHub token"),
        (PERSONAL_TOKEN, "a GitHub token"),
        (FINE_GRAINED, "a GitHub fine-grained token"),
        (PEM, "a private key"),
        (SECRET, "a secret of this deployment"),  # the webhook secret
    ],
)
async def test_a_credential_in_a_finding_is_withheld_and_audited(
    world: World, credential: str, kind: str
) -> None:
    world.models.respond_with({"findings": [_finding(f"use this: {credential}")]}, count=5)
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]

    # Whatever escaping the Markdown got, no byte of the credential's first line went out.
    assert credential.splitlines()[0] not in _posted(world).replace("\\", "")
    # Its inline comment and its annotation carried it: the review and the check run's
    # output are withheld; the summary (findings not placed inline) had no part of it.
    assert world.reviews() == []
    (check_run,) = world.check_runs()
    assert check_run.status == "completed"  # never left pending: that would block merges
    assert check_run.output["title"] == "Review output withheld"
    assert check_run.annotations == []
    assert len(world.summaries()) == 1
    events = await _blocked_events(world)
    assert {e["metadata"]["what"] for e in events} == {"review", "check"}
    assert all(kind in e["metadata"]["why"] for e in events)
    assert all(credential.splitlines()[0] not in str(e["metadata"]) for e in events)
    (run,) = await world.runs()
    assert sorted(run["metrics"]["blocked"]) == ["check", "review"]


async def test_a_credential_outside_the_diff_withholds_the_summary(world: World) -> None:
    # Line 1 of calc.py is not in the diff: the finding goes to the summary comment.
    world.models.respond_with(
        {"findings": [_finding(f"token {INSTALLATION_TOKEN}", line=1)]}, count=5
    )
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    assert INSTALLATION_TOKEN not in _posted(world).replace("\\", "")
    assert world.summaries() == []
    events = await _blocked_events(world)
    assert "summary" in {e["metadata"]["what"] for e in events}


async def test_a_clean_review_is_posted_and_nothing_is_audited(world: World) -> None:
    world.models.respond_with({"findings": [_finding("`zero` may be 0: check it first")]}, count=5)
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    assert len(world.reviews()) == 1
    assert len(world.summaries()) == 1
    assert await _blocked_events(world) == []


async def test_markup_from_the_model_reaches_github_inert(world: World) -> None:
    hostile = (
        '\\`<img src="https://tracker.example/p.png">` and\n'
        '    ```\n<img src="https://tracker.example/q.png">\n    ```\n'
        "ping @octocat, see [docs](https://evil.example/) or https://evil.example/x"
    )
    world.models.respond_with({"findings": [_finding(hostile)]}, count=5)
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    posted = _posted(world)
    assert "evil.example" not in posted  # not in a comment, nor in an annotation
    (comment,) = [c for c in world.review_comments() if c.path == "calc.py"]
    html = MarkdownIt("commonmark", {"html": True}).render(comment.body)
    assert "<img" not in _outside_code(html)
    assert "<code>@octocat</code>" in html  # shown, and nobody is notified
    assert await _blocked_events(world) == []


def _outside_code(html: str) -> str:
    return re.sub(r"<code>.*?</code>", "", html, flags=re.DOTALL)
