"""Files a pull request deletes, as the model sees them: one line each, naming what the file
defined, and where the rest of the pull request still mentions those names. Enough to find
"a removed module is still imported elsewhere" without sending the deleted code.

The names come from the deleted lines GitHub's patch carries: top-level definitions (Python
`def`/`class`/assignments; `function`, `class`, `const`, `func`, `type`, `fn`, `struct`,
`interface`, `enum`, `trait`, `module`, `def` in the other languages) and the module's own
name. References are whole-word matches on the new side of the other files' hunks. Every
pattern runs in linear time (RE2): the patch is hostile input.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewers.diff import FileDiff
from reviewers.linear import compile_linear

MAX_NAMES = 30
MAX_REFERENCES = 20
MAX_DELETED_FILES = 100
_MIN_NAME = 3  # shorter names (`a`, `id`) would match everywhere

_TOP_LEVEL = compile_linear(
    r"^(?:export\s+(?:default\s+)?)?(?:pub(?:\([a-z]+\))?\s+)?(?:public\s+|abstract\s+|final\s+)*"
    r"(?:async\s+def|def|class|function\*?|const|let|var|func|type|fn|struct|interface|enum|"
    r"trait|module|object|record)\s+([A-Za-z_$][\w$]*)"
)
_PY_ASSIGNMENT = compile_linear(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=[^=]")
_GO_METHOD = compile_linear(r"^func\s+\([^)]*\)\s+([A-Za-z_]\w*)")


@dataclass(frozen=True)
class DeletedFile:
    path: str
    names: tuple[str, ...]  # what it defined, the module's own name first
    references: tuple[tuple[str, int, str], ...]  # (path, new line, name) elsewhere in the PR

    def line(self) -> str:
        defined = ", ".join(self.names) or "nothing recognisable"
        text = f"DELETED: {self.path} (defined: {defined})"
        if self.references:
            found = ", ".join(f"{path}:{line} `{name}`" for path, line, name in self.references)
            text += f"; still referenced in this pull request at: {found}"
        return text


def deleted_files(removed: Sequence[FileDiff], others: Sequence[FileDiff]) -> list[DeletedFile]:
    summaries: list[DeletedFile] = []
    for file in list(removed)[:MAX_DELETED_FILES]:
        names = _names(file)
        summaries.append(DeletedFile(file.path, tuple(names), tuple(_references(names, others))))
    return summaries


def _names(file: FileDiff) -> list[str]:
    stem = posixpath.basename(file.path).split(".", 1)[0]
    names = [stem] if len(stem) >= _MIN_NAME and stem.isidentifier() else []
    python = file.path.endswith((".py", ".pyi"))
    for hunk in file.hunks:
        for line in hunk.lines:
            if line.kind != "deleted" or not line.text or line.text[0] in " \t":
                continue  # top level only: a nested helper is not what others import
            text = line.text[:500]
            match = _TOP_LEVEL.match(text) or _GO_METHOD.match(text)
            if match is None and python:
                match = _PY_ASSIGNMENT.match(text)
            if match is not None:
                name = match.group(1) or ""
                if len(name) >= _MIN_NAME and name not in names:
                    names.append(name)
            if len(names) >= MAX_NAMES:
                return names
    return names


def _references(names: Sequence[str], others: Sequence[FileDiff]) -> list[tuple[str, int, str]]:
    if not names:
        return []
    words = compile_linear(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    found: list[tuple[str, int, str]] = []
    for file in others:
        if file.status == "removed":
            continue
        for hunk in file.hunks:
            for line in hunk.lines:
                if line.new_line is None:
                    continue
                match = words.search(line.text[:2000])
                if match is not None:
                    found.append((file.path, line.new_line, match.group(1) or ""))
                    if len(found) >= MAX_REFERENCES:
                        return found
    return found
