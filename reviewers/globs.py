"""Path globs as `.sentinel.yml` users write them: `src/**/*.py`, `!vendor/**`, `*.md`.

Semantics (documented for users in the config schema):
- `*` matches within one path segment, `?` one character of a segment, `[abc]` a class;
- `**` matches any number of segments (including none) when it is a whole segment, so
  `src/**/x.py` matches `src/x.py` and `src/a/b/x.py`;
- a glob without `/` matches the file name at any depth (`*.lock` matches `a/b/c.lock`),
  as in `.gitignore`;
- a trailing `/` means "everything below": `docs/` is `docs/**`.

Globs come from tenants' `.sentinel.yml`, so matching must stay linear whatever they write:
the translation goes to RE2 (reviewers/linear.py), where eight nested `**` cost what one does
(Python's backtracking `re` took 1.5 s for `**/**/**/**/**/**/**/**/x.py` on one path).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from reviewers.linear import LinearPattern, compile_linear, escape


@lru_cache(maxsize=1024)
def compile_glob(glob: str) -> LinearPattern:
    pattern = glob.strip().lstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        pattern = "**/" + pattern
    return compile_linear(_whole_path(_translate(pattern)))


def glob_match(glob: str, path: str) -> bool:
    return compile_glob(glob).match(path) is not None


def _whole_path(translated: str) -> str:
    # (?s): `.` crosses newlines too (paths may hold any byte); \z: the match ends the path.
    return rf"(?s)(?:{translated})\z"


def compile_any(globs: Iterable[str]) -> LinearPattern:
    """One pattern that matches a path exactly when one of `globs` does: a single regex match
    instead of a `glob_match` call per glob. Translated globs hold no capturing groups, so
    they combine as plain alternatives."""
    return compile_linear("|".join(f"(?:{compile_glob(glob).pattern})" for glob in globs))


def _translate(pattern: str) -> str:
    out: list[str] = []
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # A whole-segment ** swallows its slash too, so it can match zero directories.
            out.append(".*" if last else "(?:[^/]*/)*")
            continue
        out.append(_translate_segment(segment))
        if not last:
            out.append("/")
    return "".join(out)


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1  # `a**b` inside a segment is just `*`
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = segment.find("]", i + 2)
            if end == -1:
                out.append(escape(ch))
            else:
                body = segment[i + 1 : end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                body = body.replace("\\", "\\\\")
                # A negated class must not match the separator either.
                out.append(f"[^/{body}]" if negate else f"[{body}]")
                i = end
        else:
            out.append(escape(ch))
        i += 1
    return "".join(out)
