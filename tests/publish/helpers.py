"""Builders shared by the publishing tests."""

from __future__ import annotations

import uuid

from app.publish.render import RunFacts


def run_facts(not_reviewed: list[tuple[str, str]], mode: str = "full review") -> RunFacts:
    """A completed run's facts, one file reviewed, with these files not reviewed."""
    return RunFacts(
        run_id=uuid.uuid4(), head_sha="c0ffee" + "0" * 34, mode=mode, files_reviewed=1,
        not_reviewed=not_reviewed, provider="anthropic", model="claude-sonnet-5-5",
        input_tokens=10, output_tokens=5, prompt_version="v1", policy="defaults (free plan)",
        notes=[], already_posted=0,
    )  # fmt: skip
