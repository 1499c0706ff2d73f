"""Everything Sentinel posts to GitHub goes through here.

Model output is untrusted: it may carry HTML, images (tracking pixels), @mentions (pinging
people), links to anywhere, or a secret it was shown. Bodies are reduced to plain Markdown
that cannot do any of that, and kept under GitHub's limits.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# GitHub's limits: 65,536 characters per comment body; 65,535 for check run summary/text.
COMMENT_BODY_LIMIT = 65_536
CHECK_OUTPUT_LIMIT = 65_535
ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
TRUNCATION_NOTE = "\n\n… (truncated)"

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_BARE_URL = re.compile(r"\bhttps?://[^\s<>()]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9-]+)?)")
# Fenced code blocks (```suggestion included) and inline code render as text: GitHub does not
# follow links, load images or notify mentions inside them, and their content must reach
# GitHub byte for byte (a suggestion replaces code; `@decorator` must survive).
_CODE = re.compile(
    r"(^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\2[ \t]*$|`[^`\n]+`)", re.DOTALL | re.MULTILINE
)
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\U000e0000-\U000e007f]")


class SecretInOutput(Exception):
    """A body to post contains a secret it must never carry; nothing is posted."""


def _allowed_link(url: str, allowed_host: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname == allowed_host


def sanitize_markdown(text: str, *, allowed_host: str, limit: int = COMMENT_BODY_LIMIT) -> str:
    """Plain, safe Markdown: no HTML, no images, no @mentions, links only to `allowed_host`."""
    text = _INVISIBLE.sub("", text.replace("\x00", ""))
    pieces = _CODE.split(text)
    # split() with two groups yields [prose, code, fence, prose, code, fence, ...].
    out: list[str] = []
    for index in range(0, len(pieces), 3):
        out.append(_sanitize_prose(pieces[index], allowed_host))
        if index + 1 < len(pieces):
            out.append(pieces[index + 1])
    return truncate("".join(out), limit)


def _sanitize_prose(text: str, allowed_host: str) -> str:
    text = _HTML_COMMENT.sub("", text)
    text = _IMAGE.sub(lambda m: f"(image: {m.group(1)})" if m.group(1) else "(image)", text)
    text = _LINK.sub(
        lambda m: m.group(0) if _allowed_link(m.group(2), allowed_host) else m.group(1), text
    )
    text = _BARE_URL.sub(
        lambda m: m.group(0) if _allowed_link(m.group(0), allowed_host) else "(link removed)",
        text,
    )
    # Escape tags so they render as text instead of being dropped silently.
    text = _HTML_TAG.sub(lambda m: m.group(0).replace("<", "&lt;").replace(">", "&gt;"), text)
    # In inline code a mention is shown but notifies nobody.
    return _MENTION.sub(lambda m: f"`@{m.group(1)}`", text)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_NOTE)] + TRUNCATION_NOTE


def assert_no_secrets(body: str, secrets: list[str]) -> None:
    for secret in secrets:
        if secret and len(secret) >= 8 and secret in body:
            raise SecretInOutput("a body to post contained a secret of this run")
