"""Regular expressions that run in time linear in their input, for text Sentinel does not control.

Pull request content, tenant configuration (globs in `.sentinel.yml`) and model output are all
hostile input. Python's `re` backtracks, so one crafted line can cost seconds or minutes of CPU
(an added line of repeated `"token"` took 76 s at 4,000 characters). RE2 compiles to an
automaton and never backtracks: every search is linear in the text, whatever the pattern.

RE2 has no back-references and no look-around; patterns here are written without them. The
`google-re2` wrapper also lacks a few `re` conveniences (spans by group name), so this module
wraps it in the small interface our matchers use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import re2

# RE2 falls back from its DFA to a (still linear) NFA when a DFA outgrows this budget, so a
# larger budget only buys speed; 32 MiB per pattern is ample for our handful of patterns.
_MAX_MEM = 32 << 20


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_MEM
    # A bad tenant glob must surface as an exception we report, not as lines on stderr.
    options.log_errors = False
    return options


class LinearPatternError(ValueError):
    """The pattern is not valid RE2 syntax (a tenant glob that does not translate, say)."""


@dataclass(frozen=True, slots=True)
class LinearMatch:
    """One match: the text, and spans (character offsets) of the whole match and each group."""

    string: str
    _spans: tuple[tuple[int, int], ...]
    _names: dict[str, int]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._names)

    def _index(self, group: int | str) -> int:
        return self._names[group] if isinstance(group, str) else group

    def span(self, group: int | str = 0) -> tuple[int, int]:
        return self._spans[self._index(group)]

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def group(self, group: int | str = 0) -> str | None:
        start, end = self.span(group)
        return None if start < 0 else self.string[start:end]


class LinearPattern:
    """A compiled RE2 pattern with the `re.Pattern` methods our matchers need."""

    __slots__ = ("_names", "_regexp", "pattern")

    def __init__(self, pattern: str) -> None:
        try:
            self._regexp = re2.compile(pattern, _options())
        except re2.error as exc:
            raise LinearPatternError(f"invalid pattern {pattern!r}: {exc}") from exc
        self.pattern = pattern
        self._names: dict[str, int] = dict(self._regexp.groupindex)

    def _wrap(self, match: Any) -> LinearMatch:
        groups = self._regexp.groups
        spans = tuple(match.span(i) for i in range(groups + 1))
        return LinearMatch(match.string, spans, self._names)

    def search(self, text: str) -> LinearMatch | None:
        match = self._regexp.search(text)
        return None if match is None else self._wrap(match)

    def match(self, text: str) -> LinearMatch | None:
        match = self._regexp.match(text)
        return None if match is None else self._wrap(match)

    def fullmatch(self, text: str) -> LinearMatch | None:
        match = self._regexp.fullmatch(text)
        return None if match is None else self._wrap(match)

    def finditer(self, text: str) -> Iterator[LinearMatch]:
        # One pass over the text: the wrapper encodes it once and resumes where a match ended.
        for match in self._regexp.finditer(text):
            yield self._wrap(match)

    def sub(self, replacement: str | Callable[[LinearMatch], str], text: str) -> str:
        """`re.sub` with a literal replacement (no group references) or a function."""
        pieces: list[str] = []
        last = 0
        for match in self.finditer(text):
            start, end = match.span()
            pieces.append(text[last:start])
            pieces.append(replacement(match) if callable(replacement) else replacement)
            last = end
        pieces.append(text[last:])
        return "".join(pieces)


def compile_linear(pattern: str) -> LinearPattern:
    return LinearPattern(pattern)


def escape(text: str) -> str:
    """`text` as a pattern matching itself literally."""
    return str(re2.escape(text))
