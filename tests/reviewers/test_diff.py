from __future__ import annotations

import random

import pytest

from reviewers.diff import (
    DiffLine,
    DiffParseError,
    _parse_patch_with_unidiff,
    _read_plain_patch,
    parse_github_file,
    parse_unified_diff,
)
from tests.reviewers.helpers import TWO_HUNKS, file_diff, github_file

GIT_DIFF = """\
diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,4 @@ import os
 import os
+import sys

 def main():
diff --git a/old_name.py b/new_name.py
similarity index 90%
rename from old_name.py
rename to new_name.py
index 3333333..4444444 100644
--- a/old_name.py
+++ b/new_name.py
@@ -5,2 +5,2 @@ class Thing:
-    x = 1
+    x = 2
     y = 3
diff --git a/pure_move.txt b/moved/pure_move.txt
similarity index 100%
rename from pure_move.txt
rename to moved/pure_move.txt
diff --git a/gone.py b/gone.py
deleted file mode 100644
index 5555555..0000000
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-print("bye")
-print("again")
diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..6666666
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# Title
+no newline here
\\ No newline at end of file
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..7777777
Binary files /dev/null and b/logo.png differ
diff --git a/copy.py b/copy2.py
similarity index 100%
copy from copy.py
copy to copy2.py
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"
index 8888888..9999999 100644
--- "a/caf\\303\\251.txt"
+++ "b/caf\\303\\251.txt"
@@ -1 +1 @@
-old
+new
"""


def test_unified_diff_statuses_and_paths() -> None:
    files = parse_unified_diff(GIT_DIFF)
    summary = [(f.path, f.old_path, f.status, f.is_binary) for f in files]
    assert summary == [
        ("src/app.py", None, "modified", False),
        ("new_name.py", "old_name.py", "renamed", False),
        ("moved/pure_move.txt", "pure_move.txt", "renamed", False),
        ("gone.py", None, "removed", False),
        ("docs/new.md", None, "added", False),
        ("logo.png", None, "added", True),
        ("copy2.py", "copy.py", "copied", False),
        ("run.sh", None, "changed", False),
        ("café.txt", None, "modified", False),
    ]


def test_unified_diff_line_numbers_and_counts() -> None:
    files = {f.path: f for f in parse_unified_diff(GIT_DIFF)}
    app = files["src/app.py"]
    assert app.hunks[0].section_header == "import os"
    assert app.hunks[0].lines == (
        DiffLine("context", 1, 1, "import os"),
        DiffLine("added", None, 2, "import sys"),
        DiffLine("context", 2, 3, ""),
        DiffLine("context", 3, 4, "def main():"),
    )
    assert (app.additions, app.deletions) == (1, 0)
    assert files["gone.py"].right_side_lines() == frozenset()
    assert (files["gone.py"].additions, files["gone.py"].deletions) == (0, 2)
    # "\ No newline at end of file" is not a line of code.
    assert [ln.text for ln in files["docs/new.md"].hunks[0].lines] == ["# Title", "no newline here"]


@pytest.mark.parametrize(
    ("new_line", "expected_hunk"),
    [(9, None), (10, 0), (13, 0), (14, None), (38, None), (39, 1), (41, 1), (42, None)],
)
def test_hunk_containing(new_line: int, expected_hunk: int | None) -> None:
    file = file_diff("src/app.py", TWO_HUNKS)
    hunk = file.hunk_containing(new_line)
    assert (file.hunks.index(hunk) if hunk else None) == expected_hunk


def test_right_side_and_added_lines() -> None:
    file = file_diff("src/app.py", TWO_HUNKS)
    assert file.right_side_lines() == frozenset({10, 11, 12, 13, 39, 40, 41})
    assert [(ln.new_line, ln.text) for ln in file.added_lines()] == [
        (11, "    if user is not None:"),
        (12, "        audit(user)"),
        (40, "    b = 2"),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # Too large: GitHub drops the patch but keeps the counts.
        (github_file("big.py", None, additions=5000, deletions=10), (True, False, 0)),
        # Binary / empty / mode-only: no patch and nothing counted.
        (github_file("img.png", None, status="added", additions=0, deletions=0), (False, False, 0)),
        # A pure rename has no patch either.
        (
            github_file("b.py", None, status="renamed", previous="a.py", additions=0, deletions=0),
            (False, False, 0),
        ),
        (github_file("a.py", TWO_HUNKS), (False, False, 2)),
    ],
)
def test_parse_github_file_patch_presence(
    entry: dict[str, object], expected: tuple[bool, bool, int]
) -> None:
    file = parse_github_file(entry)
    assert (file.patch_missing, file.is_binary, len(file.hunks)) == expected


def test_parse_github_file_rename_keeps_previous_name() -> None:
    file = parse_github_file(
        github_file("new/x.py", "@@ -1 +1 @@\n-a\n+b", status="renamed", previous="old/x.py")
    )
    assert (file.path, file.old_path, file.status) == ("new/x.py", "old/x.py", "renamed")
    assert file.hunks[0].lines[1] == DiffLine("added", None, 1, "b")


def test_parse_github_file_odd_path_and_crlf() -> None:
    # The path comes from GitHub, not from synthetic headers, so tabs and quotes survive.
    file = parse_github_file(github_file('we"ird\tname.py', "@@ -1 +1,2 @@\n a\r\n+b\r"))
    assert file.path == 'we"ird\tname.py'
    assert [ln.text for ln in file.hunks[0].lines] == ["a", "b"]


def test_parse_github_file_rejects_inconsistent_hunk() -> None:
    with pytest.raises(DiffParseError):
        parse_github_file(github_file("a.py", "@@ -1,5 +1,5 @@\n a\n+b"))


def test_empty_diff() -> None:
    assert parse_unified_diff("") == []


# What GitHub sends: read by parse_github_file's fast path, which must give exactly what the
# unidiff path gives.
PLAIN_PATCHES = [
    TWO_HUNKS,
    "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file",
    "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n",
    "@@ -0,0 +1,2 @@\n+a\n+b",  # an added file
    "@@ -1,2 +0,0 @@\n-a\n-b",  # a deleted file
    "@@ -1,2 +1,2 @@ def f():\r\n a\r\n-b\r\n+c\r\n",  # CRLF line endings
    "@@ -1,3 +1,3 @@\n a\n\n-b\n+c",  # a blank context line that lost its leading space
    "@@ -1 +1 @@\n-a\n+b\n\n",  # a trailing blank line
    "@@ -5,0 +6,2 @@\n+x\n+y\n@@ -20,2 +21,0 @@\n-p\n-q",
    "@@ -0,0 +0,0 @@",
    "@@ -1 +1 @@  spaced  header \n-a\u2028b\n+b\x0cc\r\r",
]
# Anything else is left to unidiff: text between hunks, hunks whose counts do not add up,
# stray file headers.
ODD_PATCHES = [
    "garbage\n@@ -1 +1 @@\n-a\n+b",
    "@@ -1,2 +1,2 @@\n a\n\n-b\n+c",  # lines beyond the counts
    "@@ -1,5 +1,5 @@\n a\n+b",  # too short: unidiff rejects it
    "@@ -1 +1 @@\n-a\n+b\n--- x\n+++ y\n@@ -5 +5 @@\n-c\n+d",
    "@@ -1,2 +1,2 @@\n\rzz\n-b\n+c",
    "\n@@ -1 +1 @@\n-a\n+b",
]


@pytest.mark.parametrize("patch", PLAIN_PATCHES)
def test_github_patches_are_read_as_unidiff_reads_them(patch: str) -> None:
    fast = _read_plain_patch(patch)
    assert fast is not None
    assert fast == _parse_patch_with_unidiff("a.py", patch)
    assert parse_github_file(github_file("a.py", patch)).hunks == fast


@pytest.mark.parametrize("patch", ODD_PATCHES)
def test_odd_patches_are_left_to_unidiff(patch: str) -> None:
    assert _read_plain_patch(patch) is None
    try:
        expected: object = _parse_patch_with_unidiff("a.py", patch)
    except DiffParseError as exc:
        expected = str(exc)
    try:
        got: object = parse_github_file(github_file("a.py", patch)).hunks
    except DiffParseError as exc:
        got = str(exc)
    assert got == expected


def test_fast_path_agrees_with_unidiff_on_random_patches() -> None:
    rng = random.Random(20261122)
    bodies = ["a", "", "b c", "\r", "key = 'x'", "  x\r", "\u2028y"]
    accepted = 0
    for _ in range(1500):
        rows: list[str] = []
        for _ in range(rng.randint(1, 3)):
            body = [rng.choice(" +- +") + rng.choice(bodies) for _ in range(rng.randint(0, 8))]
            if rng.random() < 0.2:
                body.insert(rng.randint(0, len(body)), rng.choice(["\\ No newline", "", "\r"]))
            old = sum(1 for row in body if row[:1] in (" ", "-", "", "\r"))
            new = sum(1 for row in body if row[:1] in (" ", "+", "", "\r"))
            old += rng.choice([0, 0, 0, 0, 1, -1])
            new += rng.choice([0, 0, 0, 0, 1, -1])
            rows.append(f"@@ -{rng.randint(0, 9)},{old} +{rng.randint(0, 9)},{new} @@ f()")
            rows += body
        patch = "\n".join(rows) + rng.choice(["", "\n", "\n\n", "\n\\ No newline at end of file"])
        fast = _read_plain_patch(patch)
        if fast is None:
            continue
        accepted += 1
        assert fast == _parse_patch_with_unidiff("a.py", patch), patch
    assert accepted > 200
