"""Handling text an attacker may have written: PR titles, bodies, commit messages, code, paths
and what a model says back.

Two defences, both needed. Sanitising removes what a human reviewer cannot see but a model
reads: HTML comments (hidden when GitHub renders Markdown), zero-width and bidi format
characters, Unicode tag characters (invisible ASCII look-alikes used to smuggle
instructions), variation-selector smuggling, NULs and other control characters. Delimiting
then holds every untrusted piece between random boundary markers the data cannot contain, so
the prompt can say exactly where data starts and ends.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable, Sequence

from reviewers.linear import compile_linear

_HTML_COMMENT = compile_linear(r"(?s)<!--.*?(?:-->|\z)")
# Characters dropped everywhere: Cf (format: zero-width, bidi controls, BOM, soft hyphen,
# tag characters U+E0001-E007F), Cc controls other than tab and newline, the unassigned tag
# block start U+E0000, and variation selectors, which carry no meaning in code or prose but
# can encode hidden bytes.
_KEEP_CONTROLS = frozenset("\t\n")
# ASCII controls but tab and newline, removed by str.translate (C, one pass): a text
# holds none of them when translating leaves its length alone. The hot path for large diffs.
_ASCII_CONTROLS = dict.fromkeys([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])


def _plain_ascii(text: str) -> bool:
    """ASCII without control characters other than tab and newline: nothing to sanitise."""
    return text.isascii() and len(text.translate(_ASCII_CONTROLS)) == len(text)


_MAX_MARKS_PER_TEXT = 8


def _is_hidden(ch: str) -> bool:
    code = ord(ch)
    if ch in _KEEP_CONTROLS:
        return False
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return True
    if 0xE0000 <= code <= 0xE007F or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return True
    return unicodedata.category(ch) == "Cf"


# Precompute the BMP part once: the per-character check is the hot path for large diffs.
_HIDDEN_BMP = frozenset(chr(c) for c in range(0x10000) if _is_hidden(chr(c)))


def _hidden(ch: str) -> bool:
    return ch in _HIDDEN_BMP if ord(ch) < 0x10000 else _is_hidden(ch)


def sanitize_untrusted(text: str, *, code: bool = False) -> str:
    """Remove hidden content from untrusted text.

    Prose (code=False): HTML comments are dropped with everything else hidden. Code
    (code=True): HTML comments are real code and stay; hidden characters are replaced by a
    visible mark such as `[U+202E]`, because their presence is itself worth a finding
    (Trojan Source) and silently deleting them would show the model different code.
    """
    if not code:
        text = _HTML_COMMENT.sub("", text)
    text = text.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if _plain_ascii(text):
        return text
    out: list[str] = []
    run: list[str] = []
    marks = 0
    for ch in text:
        if _hidden(ch):
            run.append(ch)
            continue
        if run:
            marks += _flush(out, run, code, marks)
            run = []
        out.append(ch)
    if run:
        _flush(out, run, code, marks)
    return "".join(out)


def sanitize_code_lines(lines: Sequence[str]) -> list[str]:
    """`sanitize_untrusted(line, code=True)` for each line, with one check for the usual
    case: ASCII without control characters (so no `\\r` either), which sanitising leaves as
    it is. The newlines joining the lines are not control characters to that check."""
    if _plain_ascii("\n".join(lines)):
        return list(lines)
    return [sanitize_untrusted(line, code=True) for line in lines]


def _flush(out: list[str], run: list[str], code: bool, marks: int) -> int:
    if not code or marks > _MAX_MARKS_PER_TEXT:
        return 0
    if marks == _MAX_MARKS_PER_TEXT:
        out.append("[more hidden characters removed]")
        return 1
    if len(run) == 1:
        out.append(f"[U+{ord(run[0]):04X}]")
    else:
        out.append(f"[{len(run)} hidden characters, first U+{ord(run[0]):04X}]")
    return 1


def one_line(text: str) -> str:
    """For untrusted names shown on a single line (paths): no line breaks can open a new
    line of the prompt's structure."""
    return sanitize_untrusted(text, code=True).replace("\n", "\\n").replace("\t", "\\t")


def new_boundary(*texts: str) -> str:
    """A random token that occurs in none of `texts`; 64 random bits make a collision
    astronomically unlikely, and the loop makes it impossible."""
    while True:
        token = "DATA-" + secrets.token_hex(8)
        if not any(token in text for text in texts):
            return token


def redact(text: str, forbidden: Iterable[str]) -> str:
    """Replace every occurrence of each forbidden string (an API key, a token of this run).
    Longest first, so a key containing another forbidden string is replaced whole."""
    for secret in sorted({f for f in forbidden if f}, key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    return text


def contains_forbidden(text: str, forbidden: Iterable[str]) -> bool:
    return any(f and f in text for f in forbidden)
