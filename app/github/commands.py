"""PR comment commands: `@SLUG review`, `@SLUG full review`, `@SLUG pause`, `@SLUG resume`."""

from __future__ import annotations

import re
from enum import StrEnum

# Who may command Sentinel (GitHub's `author_association` of the comment).
ALLOWED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


class Command(StrEnum):
    REVIEW = "review"
    FULL_REVIEW = "full review"
    PAUSE = "pause"
    RESUME = "resume"


def parse_command(body: str | None, slug: str) -> Command | None:
    """The first command addressed to @slug at the start of a line, outside quotes and
    fenced code. Anything else in the comment is not ours to interpret."""
    if not body:
        return None
    pattern = re.compile(
        rf"^\s*@{re.escape(slug)}(?:\[bot\])?\s+(full\s+review|review|pause|resume)\b",
        re.IGNORECASE,
    )
    in_fence = False
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence or stripped.startswith(">"):
            continue
        match = pattern.match(line)
        if match:
            return Command(" ".join(match.group(1).lower().split()))
    return None
