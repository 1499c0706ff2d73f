"""The one error the setup pages raise: something to tell the operator, with a status."""

from __future__ import annotations


class SetupError(Exception):
    """Rendered as an HTML page: `title` and `detail` in plain words, an optional link (label,
    URL) to where the operator can go next. Never carries a secret."""

    def __init__(
        self, status: int, title: str, detail: str, link: tuple[str, str] | None = None
    ) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.link = link
