"""Builders shared by the reviewers' tests: GitHub-shaped file entries and a scripted model."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewers.diff import FileDiff, parse_github_file
from reviewers.providers.base import ModelRequest, ModelResponse


def github_file(
    path: str,
    patch: str | None,
    *,
    status: str = "modified",
    previous: str | None = None,
    additions: int | None = None,
    deletions: int | None = None,
) -> dict[str, Any]:
    """One entry as GitHub's PR files API sends it (patch without ---/+++ headers)."""
    lines = (patch or "").split("\n")
    entry: dict[str, Any] = {
        "filename": path,
        "status": status,
        "additions": additions
        if additions is not None
        else sum(1 for ln in lines if ln.startswith("+")),
        "deletions": deletions
        if deletions is not None
        else sum(1 for ln in lines if ln.startswith("-")),
    }
    if patch is not None:
        entry["patch"] = patch
    if previous is not None:
        entry["previous_filename"] = previous
    return entry


def file_diff(path: str, patch: str, **kwargs: Any) -> FileDiff:
    return parse_github_file(github_file(path, patch, **kwargs))


def new_file(path: str, lines: Sequence[str]) -> FileDiff:
    body = "\n".join("+" + line for line in lines)
    return file_diff(path, f"@@ -0,0 +1,{len(lines)} @@\n{body}", status="added")


# Two hunks: new lines 10-13 (11 and 12 added) and new lines 39-41 (40 added).
TWO_HUNKS = (
    "@@ -10,3 +10,4 @@ def handler(request):\n"
    "     user = load(request)\n"
    "-    if user:\n"
    "+    if user is not None:\n"
    "+        audit(user)\n"
    "     return user\n"
    "@@ -38,2 +39,3 @@ def other():\n"
    "     a = 1\n"
    "+    b = 2\n"
    "     return a"
)


def finding_dict(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "path": "src/app.py",
        "line_start": 11,
        "line_end": 11,
        "severity": "warning",
        "category": "bug",
        "title": "Off-by-one in loop",
        "body": "The loop skips the last element.",
        "suggestion": None,
        "confidence": 0.8,
    }
    base.update(overrides)
    return base


Script = Callable[[ModelRequest], dict[str, Any] | str | None]


@dataclass
class ScriptedProvider:
    """A ModelProvider whose answers come from a list (or a function of the request).

    An answer is a dict (the parsed output), a str (raw text the model "said"), None (nothing
    parseable) or an exception to raise.
    """

    answers: list[Any] = field(default_factory=list)
    script: Script | None = None
    name: str = "scripted"
    model: str = "scripted-1"
    context_window: int = 200_000
    requests: list[ModelRequest] = field(default_factory=list)
    input_tokens: int = 100
    output_tokens: int = 20

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        answer = self.script(request) if self.script else self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, str):
            output, raw = None, answer
        else:
            output, raw = answer, json.dumps(answer) if answer is not None else ""
        return ModelResponse(
            output=output,
            raw_text=raw,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            model=self.model,
            latency_seconds=0.0,
        )

    async def aclose(self) -> None:
        return None
