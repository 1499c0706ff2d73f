from __future__ import annotations

import pytest

from reviewers.context import enclosing_context
from reviewers.diff import Hunk
from reviewers.render import render_diff
from tests.reviewers.helpers import file_diff

PYTHON = """\
import os


class Repo:
    def __init__(self):
        self.items = []

    def add(self, item):
        if item:
            self.items.append(item)
        return item


def helper():
    return 1
"""

GO = """\
package main

func (s *Server) Handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == "POST" {
		s.save(r)
	}
	w.WriteHeader(200)
}
"""

JAVA = """\
public class Billing {
    public int total(List<Item> items)
    {
        int sum = 0;
        for (Item i : items) {
            sum += i.price;
        }
        return sum;
    }
}
"""

TS = """\
export class Cart {
  add(item: Item): void {
    this.items.push(item);
  }
}

const handler = async (req: Request) => {
  const body = "{ not a brace }";
  return body;
};
"""

RUST = """\
impl Parser {
    fn parse(&mut self, input: &str) -> Result<Ast, Error> {
        let tokens = lex(input)?;
        Ok(build(tokens))
    }
}
"""


def _hunk_at(line: int, text: str) -> Hunk:
    """A one-line modification of `line`, as a hunk with no context."""
    code = text.splitlines()[line - 1]
    return file_diff("f", f"@@ -{line},1 +{line},1 @@\n-{code}x\n+{code}").hunks[0]


@pytest.mark.parametrize(
    ("path", "text", "line", "expected"),
    [
        ("repo.py", PYTHON, 10, "def add(self, item):"),
        ("repo.py", PYTHON, 6, "def __init__(self):"),
        ("repo.py", PYTHON, 15, "def helper():"),
        ("repo.py", PYTHON, 1, None),  # module level
        ("server.go", GO, 5, "func (s *Server) Handle(w http.ResponseWriter, r *http.Request) {"),
        ("server.go", GO, 7, "func (s *Server) Handle(w http.ResponseWriter, r *http.Request) {"),
        ("Billing.java", JAVA, 6, "public int total(List<Item> items)"),  # Allman brace
        ("cart.ts", TS, 3, "add(item: Item): void {"),
        ("cart.ts", TS, 9, "const handler = async (req: Request) => {"),  # braces in strings
        ("parser.rs", RUST, 3, "fn parse(&mut self, input: &str) -> Result<Ast, Error> {"),
    ],
)
def test_enclosing_context_with_full_text(
    path: str, text: str, line: int, expected: str | None
) -> None:
    assert enclosing_context(path, _hunk_at(line, text), text) == expected


def test_without_full_text_uses_hunk_context_lines() -> None:
    patch = (
        "@@ -7,4 +7,4 @@ class Repo:\n"
        "     def add(self, item):\n"
        "         if item:\n"
        "-            self.items.append(item)\n"
        "+            self.items.insert(0, item)\n"
        "         return item"
    )
    hunk = file_diff("repo.py", patch).hunks[0]
    assert enclosing_context("repo.py", hunk) == "def add(self, item):"


def test_without_full_text_falls_back_to_git_section_header() -> None:
    patch = "@@ -20,2 +20,2 @@ def process(batch):\n-    x = 1\n+    x = 2\n     y = 3"
    hunk = file_diff("jobs.py", patch).hunks[0]
    assert enclosing_context("jobs.py", hunk) == "def process(batch):"


def test_unknown_language_uses_header_only() -> None:
    patch = "@@ -1,1 +1,1 @@ section one\n-a\n+b"
    hunk = file_diff("notes.txt", patch).hunks[0]
    assert enclosing_context("notes.txt", hunk, "b\n") == "section one"


def test_long_signatures_are_clipped() -> None:
    patch = "@@ -1,1 +1,1 @@ def f(" + "x, " * 200 + "):\n-a\n+b"
    hunk = file_diff("a.py", patch).hunks[0]
    context = enclosing_context("a.py", hunk)
    assert context is not None
    assert len(context) == 200
    assert context.endswith("…")


def test_render_diff_shows_each_hunks_context_from_the_full_text() -> None:
    # render_diff splits the new text once per file; every hunk still gets its own scope.
    text = "".join(f"def f{i}():\n    a = {i}\n    b = {i}\n\n" for i in range(10))
    patch = "\n".join(
        f"@@ -{4 * i + 2},1 +{4 * i + 2},1 @@\n-    a = 0\n+    a = {i}" for i in (1, 5, 8)
    )
    file = file_diff("many.py", patch)
    rendered = render_diff([file], {"many.py": text})
    scopes = [line.split(" in: ")[1] for line in rendered.splitlines() if " in: " in line]
    assert scopes == ["def f1():", "def f5():", "def f8():"]
    assert scopes == [enclosing_context("many.py", hunk, text) for hunk in file.hunks]
