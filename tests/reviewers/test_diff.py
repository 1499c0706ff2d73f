from __future__ import annotations

import pytest

from reviewers.diff import DiffLine, DiffParseError, parse_github_file, parse_unified_diff
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
