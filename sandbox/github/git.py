"""A repository's history as the fake knows it: commits on first-parent lines, branches that
point at commits, the files each commit wrote, and comparisons between two commits.

Simplifications, on purpose (tests arrange history by hand, so it stays small):
- every commit has at most one parent (no merges); a comparison walks first parents;
- a commit carries its changes as GitHub patch entries relative to its parent, and, when a
  test gave them, the full texts it wrote. Comparing across several commits returns one
  entry per file: the single commit's entry when one commit touched the file; a real diff
  of the two texts when both ends are known; otherwise the commits' patches concatenated
  in order (line numbers of later hunks are then relative to the intermediate commit, not
  to the base, and additions/deletions are summed).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Final

from sandbox.github import diffs
from sandbox.github.records import Commit

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
MIN_SHORT_SHA = 7


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


# What `read` answers for a path no commit on the line ever wrote or deleted.
UNKNOWN: Final = _Unknown()


def blob_sha(data: bytes) -> str:
    """Git's object id for a blob holding `data`."""
    header = f"blob {len(data)}\0".encode()
    return hashlib.sha1(header + data).hexdigest()  # noqa: S324 - git's id, not security


@dataclass
class Comparison:
    base: Commit
    head: Commit
    merge_base: Commit
    ahead: list[Commit]  # merge base (excluded) to head, oldest first
    behind: list[Commit]  # merge base (excluded) to base, oldest first
    files: list[dict[str, Any]]

    @property
    def status(self) -> str:
        if not self.ahead and not self.behind:
            return "identical"
        if not self.behind:
            return "ahead"
        return "behind" if not self.ahead else "diverged"


@dataclass
class RepoGit:
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def resolve(self, ref: str) -> str | None:
        """The commit a ref names: a branch (`main`, `refs/heads/main`, `heads/main`), a
        full SHA, or an unambiguous SHA prefix of at least 7 characters."""
        for prefix in ("refs/heads/", "heads/"):
            if ref.startswith(prefix) and ref[len(prefix) :] in self.branches:
                return self.branches[ref[len(prefix) :]]
        if ref in self.branches:
            return self.branches[ref]
        lowered = ref.lower()
        if lowered in self.commits:
            return lowered
        if len(lowered) >= MIN_SHORT_SHA and re.fullmatch(r"[0-9a-f]+", lowered):
            matches = [sha for sha in self.commits if sha.startswith(lowered)]
            if len(matches) == 1:
                return matches[0]
        return None

    def line(self, sha: str) -> list[Commit]:
        """`sha` and its first-parent ancestors the fake knows, newest first."""
        line: list[Commit] = []
        seen: set[str] = set()
        current: str | None = sha
        while current is not None and current in self.commits and current not in seen:
            seen.add(current)
            commit = self.commits[current]
            line.append(commit)
            current = commit.parent
        return line

    def read(self, sha: str, path: str) -> bytes | _Unknown | None:
        """A file's bytes at a commit; None if deleted there, UNKNOWN if never written."""
        for commit in self.line(sha):
            if path in commit.contents:
                return commit.contents[path]
        return UNKNOWN

    def tree(self, sha: str) -> dict[str, bytes]:
        """Every file the fake knows at a commit."""
        tree: dict[str, bytes] = {}
        for commit in reversed(self.line(sha)):
            for path, data in commit.contents.items():
                if data is None:
                    tree.pop(path, None)
                else:
                    tree[path] = data
        return tree

    def compare(self, base_sha: str, head_sha: str) -> Comparison | None:
        """`base...head`: None when the two lines share no commit."""
        head_line, base_line = self.line(head_sha), self.line(base_sha)
        on_base = {c.sha for c in base_line}
        merge_base = next((c for c in head_line if c.sha in on_base), None)
        if merge_base is None:
            return None
        ahead = list(reversed(head_line[: head_line.index(merge_base)]))
        behind_line = [c.sha for c in base_line]
        behind = list(reversed(base_line[: behind_line.index(merge_base.sha)]))
        return Comparison(
            base=self.commits[base_sha],
            head=self.commits[head_sha],
            merge_base=merge_base,
            ahead=ahead,
            behind=behind,
            files=self.net_files(merge_base.sha, head_sha, ahead),
        )

    def net_files(
        self, base_sha: str, head_sha: str, commits: list[Commit]
    ) -> list[dict[str, Any]]:
        """One entry per file the commits touched, in the order they first touched them."""
        touched: dict[str, list[dict[str, Any]]] = {}
        for commit in commits:
            for entry in commit.files:
                name, previous = entry["filename"], entry.get("previous_filename")
                if entry["status"] == "renamed" and previous in touched and previous != name:
                    touched[name] = touched.pop(previous)
                touched.setdefault(name, []).append(entry)
        files = []
        for entries in touched.values():
            merged = entries[0] if len(entries) == 1 else self._merge(base_sha, head_sha, entries)
            if merged is not None:
                files.append(dict(merged))
        return files

    def _merge(
        self, base_sha: str, head_sha: str, entries: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        first, last = entries[0], entries[-1]
        original = first.get("previous_filename") or first["filename"]
        before = None if first["status"] == "added" else self.read(base_sha, original)
        after = None if last["status"] == "removed" else self.read(head_sha, last["filename"])
        if not isinstance(before, _Unknown) and not isinstance(after, _Unknown):
            return _diffed(original, last["filename"], before, after)
        patches = [e["patch"] for e in entries if e.get("patch")]
        status = last["status"]
        if first["status"] == "added" and status != "removed":
            status = "added"
        elif original != last["filename"] and status != "removed":
            status = "renamed"
        merged = {
            **last,
            "status": status,
            "additions": sum(e["additions"] for e in entries),
            "deletions": sum(e["deletions"] for e in entries),
        }
        merged["changes"] = merged["additions"] + merged["deletions"]
        if patches:
            merged["patch"] = "\n".join(patches)
        if status == "renamed":
            merged["previous_filename"] = original
        else:
            merged.pop("previous_filename", None)
        return merged


def _diffed(
    original: str, name: str, before: bytes | None, after: bytes | None
) -> dict[str, Any] | None:
    """The entry GitHub would list for a file going from `before` to `after`."""
    if before is None and after is None:
        return None  # added and removed again: no net change
    old = None if before is None else before.decode("utf-8", "replace")
    new = None if after is None else after.decode("utf-8", "replace")
    patch = diffs.make_patch(old, new)
    if before is None:
        status = "added"
    elif after is None:
        status = "removed"
    elif original != name:
        status = "renamed"
    elif not patch:
        return None  # changed and changed back
    else:
        status = "modified"
    additions, deletions = diffs.counts(patch)
    entry: dict[str, Any] = {
        "sha": blob_sha(after if after is not None else before or b""),
        "filename": name,
        "status": status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
    }
    if patch:
        entry["patch"] = patch
    if status == "renamed":
        entry["previous_filename"] = original
    return entry
