"""Writing to GitHub: the check run, the review, the summary comment.

Each write first looks for what an earlier attempt of the same run already posted (the
check run's external_id, a hidden marker in the review and summary bodies), so a worker that
crashed after posting and before committing never posts twice. The first execution of a run
(`fresh`) skips the looks for the check run and the review: nothing of the run can be on
GitHub before it starts. The summary is looked for always (it belongs to the PR, not the
run): by the id kept on the PR, else among the comments the pull request's GraphQL read
returned, listing them only when that read did not see them all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.publish.render import SUMMARY_MARKER, run_marker
from app.review.errors import from_github
from app.review.github_source import raw

CHECK_NAME = "Sentinel"
ANNOTATIONS_PER_REQUEST = 50
COMMENTS_PER_PAGE = 100
MAX_COMMENT_PAGES = 50


@dataclass(frozen=True)
class AppIdentity:
    """How to recognise what this App wrote."""

    app_id: int | None
    bot_login: str

    def wrote(self, item: dict[str, Any]) -> bool:
        via = item.get("performed_via_github_app") or item.get("app") or {}
        if self.app_id is not None and via.get("id") == self.app_id:
            return True
        return (item.get("user") or {}).get("login") == self.bot_login


async def _call(github: GitHub[Any], doing: str, method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = await github.arequest(method, url, **kwargs)
    except Exception as error:
        raise from_github(error, doing) from None
    return raw(response) if response.content else None


@dataclass
class _CheckRunState:
    completed: bool
    annotations: int


async def _listed(github: GitHub[Any], doing: str, url: str) -> AsyncIterator[dict[str, Any]]:
    """The items of a paginated GitHub list, page by page (up to MAX_COMMENT_PAGES): a caller
    that finds what it looks for stops reading."""
    for page in range(1, MAX_COMMENT_PAGES + 1):
        batch = await _call(
            github, doing, "GET", url, params={"per_page": COMMENTS_PER_PAGE, "page": page}
        )
        for item in batch:
            yield item
        if len(batch) < COMMENTS_PER_PAGE:
            return


class Repo:
    def __init__(
        self, github: GitHub[Any], full_name: str, identity: AppIdentity, *, fresh: bool = False
    ) -> None:
        self.github = github
        self.path = f"/repos/{full_name}"
        self.identity = identity
        self.fresh = fresh
        # Check runs this object created or wrote to: their state needs no reading back.
        self._check_runs: dict[int, _CheckRunState] = {}

    # -- check run -----------------------------------------------------------------------

    async def find_check_run(self, head_sha: str, run_id: uuid.UUID) -> dict[str, Any] | None:
        found = await _call(
            self.github,
            "looking for the check run",
            "GET",
            f"{self.path}/commits/{head_sha}/check-runs",
            params={"check_name": CHECK_NAME, "per_page": 100},
        )
        for check_run in found.get("check_runs", []):
            if check_run.get("external_id") == str(run_id) and self.identity.wrote(check_run):
                return check_run
        return None

    async def start_check_run(
        self,
        head_sha: str,
        run_id: uuid.UUID,
        *,
        title: str = "Reviewing",
        summary: str = "Sentinel is reviewing this commit.",
    ) -> dict[str, Any]:
        if not self.fresh:
            existing = await self.find_check_run(head_sha, run_id)
            if existing is not None:
                if existing.get("status") != "completed":  # else its outcome stays as it is
                    await self.show_on_check_run(existing, title=title, summary=summary)
                return existing
        return await self._create_check_run(
            head_sha,
            run_id,
            {"status": "in_progress", "output": {"title": title, "summary": summary}},
            _CheckRunState(completed=False, annotations=0),
        )

    async def create_completed_check_run(
        self,
        head_sha: str,
        run_id: uuid.UUID,
        *,
        conclusion: str,
        output: dict[str, Any],
    ) -> dict[str, Any]:
        """A check run that is done when it first appears: one request."""
        return await self._create_check_run(
            head_sha,
            run_id,
            {"status": "completed", "conclusion": conclusion, "output": output},
            _CheckRunState(completed=True, annotations=len(output.get("annotations") or [])),
        )

    async def _create_check_run(
        self, head_sha: str, run_id: uuid.UUID, fields: dict[str, Any], state: _CheckRunState
    ) -> dict[str, Any]:
        created = await _call(
            self.github,
            "creating the check run",
            "POST",
            f"{self.path}/check-runs",
            json={"name": CHECK_NAME, "head_sha": head_sha, "external_id": str(run_id), **fields},
        )
        self._check_runs[int(created["id"])] = state
        return created

    async def show_on_check_run(
        self, check_run: dict[str, Any], *, title: str, summary: str
    ) -> None:
        """New output on a check run still in progress (what the review is about to do)."""
        await _call(
            self.github,
            "updating the check run",
            "PATCH",
            f"{self.path}/check-runs/{check_run['id']}",
            json={"output": {"title": title, "summary": summary}},
        )

    async def complete_check_run(
        self,
        check_run: dict[str, Any],
        *,
        conclusion: str,
        title: str,
        summary: str,
        annotations: list[dict[str, object]],
        text: str = "",
    ) -> None:
        """Annotations go 50 a request (GitHub appends them); the last request completes the
        run. On a retry, annotations GitHub already holds are not sent again."""
        url = f"{self.path}/check-runs/{check_run['id']}"
        state = self._check_runs.get(int(check_run["id"]))
        if state is None:
            current = await _call(self.github, "reading the check run", "GET", url)
            state = _CheckRunState(
                completed=current.get("status") == "completed",
                annotations=int((current.get("output") or {}).get("annotations_count") or 0),
            )
            self._check_runs[int(check_run["id"])] = state
        if state.completed:
            return
        remaining = annotations[state.annotations :]
        output = {"title": title, "summary": summary}
        if text:
            output["text"] = text
        while len(remaining) > ANNOTATIONS_PER_REQUEST:
            batch, remaining = (
                remaining[:ANNOTATIONS_PER_REQUEST],
                remaining[ANNOTATIONS_PER_REQUEST:],
            )
            await _call(
                self.github,
                "annotating the check run",
                "PATCH",
                url,
                json={"output": {**output, "annotations": batch}},
            )
            state.annotations += len(batch)
        await _call(
            self.github,
            "completing the check run",
            "PATCH",
            url,
            json={
                "status": "completed",
                "conclusion": conclusion,
                "output": {**output, "annotations": remaining},
            },
        )
        state.completed = True
        state.annotations += len(remaining)

    # -- review --------------------------------------------------------------------------

    async def find_review(self, number: int, run_id: uuid.UUID) -> dict[str, Any] | None:
        marker = run_marker(run_id)
        url = f"{self.path}/pulls/{number}/reviews"
        async for review in _listed(self.github, "listing reviews", url):
            if marker in (review.get("body") or "") and self.identity.wrote(review):
                return review
        return None

    async def post_review(
        self,
        number: int,
        run_id: uuid.UUID,
        *,
        commit_id: str,
        body: str,
        event: str,
        comments: list[dict[str, object]],
    ) -> dict[str, Any]:
        """One review with every inline comment, in one request (or the one posted before)."""
        if not self.fresh:
            existing = await self.find_review(number, run_id)
            if existing is not None:
                return existing
        posted = await _call(
            self.github,
            "posting the review",
            "POST",
            f"{self.path}/pulls/{number}/reviews",
            json={"commit_id": commit_id, "body": body, "event": event, "comments": comments},
        )
        return posted

    # -- summary comment -----------------------------------------------------------------

    async def upsert_summary(
        self, number: int, body: str, *, known_id: int | None = None, look: bool = True
    ) -> dict[str, Any]:
        """The PR's one summary comment: updated by its known id (one call), else found by its
        marker among the App's comments (unless `look` is False: the caller has seen them
        all), else posted. A known comment someone deleted (404) is looked for, then posted
        again."""
        if known_id is not None:
            try:
                response = await self.github.arequest(
                    "PATCH", f"{self.path}/issues/comments/{known_id}", json={"body": body}
                )
                return dict(raw(response))
            except RequestFailed as error:
                if error.response.status_code != 404:
                    raise from_github(error, "updating the summary comment") from None
            except Exception as error:
                raise from_github(error, "updating the summary comment") from None
            look = True
        found = await self._find_summary(number) if look else None
        if found is not None:
            return await _call(
                self.github,
                "updating the summary comment",
                "PATCH",
                f"{self.path}/issues/comments/{found}",
                json={"body": body},
            )
        return await _call(
            self.github,
            "posting the summary comment",
            "POST",
            f"{self.path}/issues/{number}/comments",
            json={"body": body},
        )

    async def _find_summary(self, number: int) -> int | None:
        url = f"{self.path}/issues/{number}/comments"
        async for comment in _listed(self.github, "listing comments", url):
            if SUMMARY_MARKER in (comment.get("body") or "") and self.identity.wrote(comment):
                return int(comment["id"])
        return None


class CheckRun:
    """The run's check run, created when there is first something to say: the review's
    estimate (in progress), or its outcome (completed, in one request when it needs no more).
    A run that ends before its estimate thus spends one call on its check, not two."""

    def __init__(self, repo: Repo, head_sha: str, run_id: uuid.UUID) -> None:
        self.repo = repo
        self.head_sha = head_sha
        self.run_id = run_id
        self.current: dict[str, Any] | None = None

    @property
    def id(self) -> int | None:
        return int(self.current["id"]) if self.current is not None else None

    async def show(self, *, title: str, summary: str) -> None:
        if self.current is None:
            self.current = await self.repo.start_check_run(
                self.head_sha, self.run_id, title=title, summary=summary
            )
        else:
            await self.repo.show_on_check_run(self.current, title=title, summary=summary)

    async def close_if_shown(self, *, conclusion: str, title: str, summary: str) -> None:
        """Complete the check run if the run has one on GitHub (this attempt's or an earlier
        one's), without creating one: a run stopped before it showed anything stays quiet."""
        await self._find_earlier()
        if self.current is not None:
            await self.complete(conclusion=conclusion, title=title, summary=summary, annotations=[])

    async def _find_earlier(self) -> None:
        """The check run an earlier attempt of the run created, if any (a first execution
        has none to look for)."""
        if self.current is None and not self.repo.fresh:
            self.current = await self.repo.find_check_run(self.head_sha, self.run_id)

    async def complete(
        self,
        *,
        conclusion: str,
        title: str,
        summary: str,
        annotations: list[dict[str, object]],
        text: str = "",
    ) -> None:
        await self._find_earlier()
        if self.current is None and len(annotations) <= ANNOTATIONS_PER_REQUEST:
            output: dict[str, Any] = {
                "title": title,
                "summary": summary,
                "annotations": annotations,
            }
            if text:
                output["text"] = text
            self.current = await self.repo.create_completed_check_run(
                self.head_sha, self.run_id, conclusion=conclusion, output=output
            )
            return
        if self.current is None:
            self.current = await self.repo.start_check_run(self.head_sha, self.run_id)
        await self.repo.complete_check_run(
            self.current, conclusion=conclusion, title=title, summary=summary,
            annotations=annotations, text=text,
        )  # fmt: skip
