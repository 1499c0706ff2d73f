"""Everything Sentinel posts to GitHub goes through here.

Model output is untrusted: it may carry HTML, images (tracking pixels), @mentions (pinging
people), links to anywhere, or a secret it was shown. Bodies are reduced to plain Markdown
that cannot do any of that, and kept under GitHub's limits.
"""

from __future__ import annotations

import structlog

from app.publish.markdown import code_fence, rewrite, unsafe_parts, without_foreign_links
from reviewers.linear import compile_linear

log = structlog.get_logger(__name__)

# GitHub's limits: 65,536 characters per comment body; 65,535 for check run summary/text.
COMMENT_BODY_LIMIT = 65_536
CHECK_OUTPUT_LIMIT = 65_535
ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
TRUNCATION_NOTE = "\n\n… (truncated)"

# Zero-width and bidirectional controls (Trojan Source: text that reads unlike it runs), the
# Arabic letter mark, invisible separators and tag characters; C0 controls but tab/newline.
_INVISIBLE = compile_linear(
    r"[\x{200b}-\x{200f}\x{202a}-\x{202e}\x{2060}-\x{2069}\x{061c}\x{180e}\x{feff}"
    r"\x{e0000}-\x{e007f}\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)
# Credentials that must never be posted whoever they belong to: GitHub tokens of every kind
# (installation ghs_, personal ghp_ and github_pat_, OAuth gho_, user-to-server ghu_, refresh
# ghr_) and private keys in PEM form (the App's own among them).
_POSTABLE_NEVER = compile_linear(
    r"(?P<github_token>\bgh[pousr]_[A-Za-z0-9]{30,})"
    r"|(?P<fine_grained_token>\bgithub_pat_[A-Za-z0-9_]{22,})"
    r"|(?P<private_key>-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)"
)
_KIND_WORDS = {
    "github_token": "a GitHub token",
    "fine_grained_token": "a GitHub fine-grained token",
    "private_key": "a private key",
}


class SecretInOutput(Exception):
    """A body to post contains a secret it must never carry; nothing is posted."""


class UnsafeOutput(Exception):
    """A body to post would render something active (HTML, image, foreign link, mention)."""


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def has_invisible(text: str) -> bool:
    return _INVISIBLE.search(text.replace("\r", "")) is not None


def sanitize_markdown(text: str, *, allowed_host: str, limit: int = COMMENT_BODY_LIMIT) -> str:
    """Plain, safe Markdown: no HTML, no images, no @mentions, links only to `allowed_host`,
    at most `limit` characters. Shortening cuts the source and writes it again, so no fence
    or code span is ever left open."""
    # Only a bounded prefix can ever be shown; parsing more would be work for nothing.
    text = strip_invisible(text[: 2 * limit])
    out = rewrite(text, allowed_host=allowed_host)
    cut = len(text)
    while len(out) > limit and cut > 0:
        # Escapes make the output longer than its source; shrink the source in proportion.
        cut = min(cut - 1, int(cut * (limit - len(TRUNCATION_NOTE)) / len(out)))
        out = rewrite(text[: max(cut, 0)], allowed_host=allowed_host) + TRUNCATION_NOTE
    problems = unsafe_parts(out, allowed_host=allowed_host)
    if problems:
        # Fail closed: a writer gap shows the words as code rather than render them.
        log.warning("publish.markdown_fallback", problems=problems[:5])
        out = "\n".join(code_fence(truncate(text, max(0, limit - 200))))
    return out


def plain_text(text: str, *, allowed_host: str, limit: int) -> str:
    """For fields GitHub shows as plain text (annotation titles and messages): no invisible
    characters, no address off `allowed_host` for a reader to follow."""
    return truncate(without_foreign_links(strip_invisible(text), allowed_host=allowed_host), limit)


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters (GitHub's limit on comment bodies counts characters)."""
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_NOTE)] + TRUNCATION_NOTE


def truncate_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut between characters. A check run's summary and
    text are limited in bytes (65,535): 30,000 characters of CJK or emoji are over it."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    room = limit - len(TRUNCATION_NOTE.encode())
    return encoded[:room].decode(errors="ignore") + TRUNCATION_NOTE


def assert_no_secrets(body: str, secrets: list[str]) -> None:
    """Raise unless `body` is free of this run's secrets (the workspace's model key, the
    webhook secret) and of any GitHub token or private key. The error names the kind only."""
    for secret in secrets:
        if secret and len(secret) >= 8 and secret in body:
            raise SecretInOutput("it contained a secret of this deployment (a key or secret)")
    match = _POSTABLE_NEVER.search(body)
    if match is not None:
        kind = next(name for name in match.names if match.group(name))
        raise SecretInOutput(f"it contained {_KIND_WORDS[kind]}")
