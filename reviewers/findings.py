"""A finding as the reviewers produce it, before anchoring, filtering and storage."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from reviewers.config import Category, Severity

Source = Literal["model", "static"]


@dataclass(frozen=True)
class Finding:
    path: str
    line_start: int
    line_end: int
    severity: Severity
    category: Category
    title: str
    body: str
    confidence: float
    suggestion: str | None = None
    source: Source = "model"
    # Who said it: e.g. "anthropic:claude-sonnet-4" or "static:secrets".
    reviewer: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable across runs and pushes: the file, the category and the normalised title.
        Lines are left out on purpose: code above a finding moves it, and the same finding on
        a new push must not be posted again."""
        title = re.sub(r"\W+", " ", self.title.lower()).strip()
        digest = hashlib.sha256(f"{self.path}\x00{self.category}\x00{title}".encode())
        return digest.hexdigest()[:32]
