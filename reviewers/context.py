"""The function or class a hunk sits in, so the model knows what the changed lines belong to.

Honest about what it is: line-based heuristics, not a parser. With the full new file we look
upwards from the first changed line (indentation for Python, brace balance for the C family);
without it we look at the hunk's own context lines, then fall back to git's section header
(`@@ ... @@ def foo(...)`), which names the nearest definition *above* the hunk in the old
file, not necessarily one that encloses it. Wrong answers cost little: this is context for
the model, never a location a comment is posted on.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from reviewers.diff import Hunk
from reviewers.linear import compile_linear

_PYTHON = frozenset({"py", "pyi"})
_BRACE = frozenset(
    """js jsx mjs cjs ts tsx mts cts go java kt kts scala rs c h cc cpp cxx hpp hh hxx
    cs swift php dart""".split()
)
# RE2 patterns (reviewers/linear.py): these run on every line above a hunk, and Python's
# backtracking made `_BRACE_DECL` quadratic in the length of a crafted line.
_PY_DEF = compile_linear(r"^(\s*)(?:async\s+def|def|class)\s+\w")
_CONTROL = compile_linear(
    r"^\s*(?:\}\s*)?(?:if|else|for|foreach|while|do|switch|case|try|catch|finally|with|"
    r"return|match|loop|select|unsafe|defer|go)\b"
)
_BRACE_DECL = compile_linear(
    r"\b(?:class|struct|interface|enum|trait|impl|fn|func|function|namespace|mod|module|"
    r"record|object|protocol|extension)\b"
    # A call-shaped signature: a name, a parameter list, maybe a return type, then `{`.
    r"|^\s*[\w$<>\[\]*&:,.@\s]*?[\w$]+\s*\([^;]*\)\s*(?:[\w\s:<>\[\]*&,.?|-]*|=>\s*)\{?\s*$"
    r"|=>\s*\{\s*$"
)
_STRING_OR_COMMENT = compile_linear(
    r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`|//.*$|/\*.*?\*/'
)
# Upper bound on lines scanned upwards: keeps a 50,000-line file from costing much per hunk.
_MAX_SCAN = 3000
_MAX_LEN = 200
# Characters of a line the heuristics read: a signature fits easily, and a 64 KB minified line
# of backtick pairs would otherwise cost a string-stripping match every two characters.
_MAX_LINE_READ = 1000


def language_of(path: str) -> str | None:
    name = posixpath.basename(path)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in _PYTHON:
        return "python"
    if ext in _BRACE:
        return "brace"
    return None


def enclosing_context(path: str, hunk: Hunk, new_text: str | None = None) -> str | None:
    """A one-line signature of the enclosing function or class, or None when unknown."""
    language = language_of(path)
    new_lines = new_text.splitlines() if new_text is not None and language is not None else None
    return hunk_context(language, hunk, new_lines)


def hunk_context(language: str | None, hunk: Hunk, new_lines: Sequence[str] | None) -> str | None:
    """`enclosing_context` for callers that go through a file's hunks: the language and the
    new file's lines (`new_text.splitlines()`, or None) are worked out once per file. Splitting
    the whole text again for every hunk made a long file with many hunks cost time
    proportional to hunks times lines."""
    anchor = _first_changed_new_line(hunk)
    if new_lines is not None and language is not None:
        above = new_lines[max(0, anchor - 1 - _MAX_SCAN) : anchor - 1]
        target = new_lines[anchor - 1] if 0 < anchor <= len(new_lines) else ""
        return _clip(_search(language, above, target))
    if language is not None:
        # Only the hunk's own lines before the change are known: a definition among them
        # encloses the change for certain if the heuristic accepts it.
        before, target = _hunk_lines_up_to(hunk, anchor)
        found = _search(language, before, target)
        if found:
            return _clip(found)
    return _clip(hunk.section_header) or None


def _hunk_lines_up_to(hunk: Hunk, anchor: int) -> tuple[list[str], str]:
    """The texts of the hunk's new-side lines before `anchor`, and of the line at `anchor`
    ("" when the hunk does not show it), in one pass over the hunk."""
    before: list[str] = []
    target: str | None = None
    for line in hunk.lines:
        number = line.new_line
        if number is None:
            continue
        if number < anchor:
            before.append(line.text)
        elif target is None and number == anchor:
            target = line.text
    return before, target if target is not None else ""


def _first_changed_new_line(hunk: Hunk) -> int:
    """New-side line of the first added line; for a pure deletion, the line after it."""
    last_new = hunk.new_start - 1
    for line in hunk.lines:
        if line.kind == "added" and line.new_line is not None:
            return line.new_line
        if line.kind == "deleted":
            return last_new + 1
        if line.new_line is not None:
            last_new = line.new_line
    return hunk.new_start


def _search(language: str, above: Sequence[str], target: str) -> str | None:
    if language == "python":
        return _python_scope(above, target)
    return _brace_scope(above)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _python_scope(above: Sequence[str], target: str) -> str | None:
    # The changed line's indentation bounds the search: an enclosing def/class is the first
    # definition upwards that is indented less than everything seen since.
    limit = _indent(target) if target.strip() else 10**6
    for text in reversed(above):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        indent = _indent(text)
        if indent >= limit:
            continue
        if _PY_DEF.match(text[:_MAX_LINE_READ]):
            return text.strip()
        if indent == 0:
            return None  # a module-level statement: the change is not inside a definition
        limit = indent
    return None


def _brace_scope(above: Sequence[str]) -> str | None:
    depth = 0
    for index in range(len(above) - 1, -1, -1):
        code = _STRING_OR_COMMENT.sub("", above[index][:_MAX_LINE_READ])
        for ch in reversed(code):
            if ch == "}":
                depth += 1
            elif ch == "{":
                if depth:
                    depth -= 1
                    continue
                # An unmatched `{`: a block that encloses the change. Allman style puts the
                # brace on its own line, so read the signature from the line(s) above.
                signature = _signature_at(above, index)
                if signature:
                    return signature
                # A control block (if/for/...): keep looking for what encloses it.
    return None


def _signature_at(lines: Sequence[str], index: int) -> str | None:
    line = lines[index][:_MAX_LINE_READ]
    code = _STRING_OR_COMMENT.sub("", line).strip()
    if code in ("{", "") and index > 0:
        line = lines[index - 1][:_MAX_LINE_READ]
        code = _STRING_OR_COMMENT.sub("", line).strip()
    if not code or _CONTROL.match(code):
        return None
    # Decide on the code without strings and comments; show the line as written.
    return line.strip() if _BRACE_DECL.search(code) else None


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= _MAX_LEN else text[: _MAX_LEN - 1] + "…"
