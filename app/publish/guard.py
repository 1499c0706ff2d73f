"""The last check before anything reaches GitHub: what is about to be posted, as GitHub reads it.

Rendering (render.py) already writes safe Markdown; this re-reads the final bodies, the way a
second pair of eyes would, so that a gap in rendering or a secret that slipped in is withheld
rather than posted. Each withheld body is recorded (what, and why in words an admin can act
on) and audited as `publish.blocked` when the run finishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog

from app.publish.markdown import rendered_text, unsafe_parts
from app.publish.sanitize import SecretInOutput, assert_no_secrets

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Withheld:
    what: str  # "review", "check" or "summary"
    why: str


@dataclass
class PublishGuard:
    allowed_host: str
    secrets: list[str]
    # Sentinel's own markup in its bodies: hidden markers, the footer's <sub>.
    own_html: frozenset[str]
    withheld: list[Withheld] = field(default_factory=list)

    def allows(self, what: str, *, markdown: Iterable[str] = (), plain: Iterable[str] = ()) -> bool:
        """True when every body may be posted; otherwise records why `what` is withheld."""
        markdown, plain = list(markdown), list(plain)
        # Markdown is checked as written and as read: escapes can hide a token in the source.
        seen = [*markdown, *map(rendered_text, markdown), *plain]
        reason = self._secret_in(seen) or self._active_markup_in(markdown)
        if reason is None:
            return True
        log.warning("publish.blocked", what=what, why=reason)
        self.withheld.append(Withheld(what, reason))
        return False

    def _secret_in(self, bodies: list[str]) -> str | None:
        for body in bodies:
            try:
                assert_no_secrets(body, self.secrets)
            except SecretInOutput as error:
                return f"withheld because {error}"
        return None

    def _active_markup_in(self, bodies: list[str]) -> str | None:
        for body in bodies:
            problems = unsafe_parts(body, allowed_host=self.allowed_host, own_html=self.own_html)
            if problems:
                return f"withheld because it would have rendered {problems[0]}"
        return None
