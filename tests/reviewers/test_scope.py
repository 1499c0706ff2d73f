"""The enclosing definition from tree-sitter, and the prompt showing all of it around a hunk."""

from __future__ import annotations

import pytest

from reviewers.render import render_diff
from reviewers.scope import enclosing_scope
from tests.reviewers.helpers import file_diff

PYTHON = """import os


def prefixed_lines(text):
    return ["> " + line for line in text.splitlines()]


def wrap_all(items):
    wrapped = []
    for item in items:
        wrapped.append(prefixed_lines(item))
    return wrapped
"""


@pytest.mark.parametrize(
    ("path", "text", "line", "expected"),
    [
        ("a.py", PYTHON, 11, (8, 12, "def wrap_all(items):")),
        ("a.py", "@cache\ndef f():\n    return 1\n", 3, (1, 3, "def f():")),
        (
            "a.js",
            "export function outer(a) {\n  const xs = a.map(x => {\n    return x;\n  });\n}\n",
            3,
            (1, 5, "export function outer(a) {"),
        ),
        (
            "a.ts",
            "const f = (y: number) => {\n  return y * 2;\n};\n",
            2,
            (1, 3, "const f = (y: number) => {"),
        ),
        ("a.tsx", "function App() {\n  return <div>hi</div>;\n}\n", 2, (1, 3, "function App() {")),
        (
            "a.go",
            "package m\n\nfunc (s *S) Run() int {\n\treturn 1\n}\n",
            4,
            (3, 5, "func (s *S) Run() int {"),
        ),
        ("A.java", "class A {\n  int b() {\n    return 1;\n  }\n}\n", 3, (2, 4, "int b() {")),
        ("a.rb", "class A\n  def b\n    1\n  end\nend\n", 3, (2, 4, "def b")),
        (
            "a.rs",
            "impl F {\n    fn bar(&self) -> u8 {\n        1\n    }\n}\n",
            3,
            (2, 4, "fn bar(&self) -> u8 {"),
        ),
    ],
)
def test_the_smallest_named_definition_holding_the_change(
    path: str, text: str, line: int, expected: tuple[int, int, str]
) -> None:
    scope = enclosing_scope(path, text, text.splitlines(), line, line)
    assert scope is not None
    assert (scope.start_line, scope.end_line, scope.signature) == expected


def test_module_level_code_has_no_scope() -> None:
    assert enclosing_scope("a.py", PYTHON, PYTHON.splitlines(), 1, 1) is None


def test_unparsed_languages_have_no_scope() -> None:
    assert enclosing_scope("a.kt", "fun f() {\n}\n", ["fun f() {", "}"], 1, 1) is None


def test_the_prompt_shows_the_whole_function_and_the_right_label() -> None:
    # git's header names the definition above the hunk (prefixed_lines), which is wrong.
    diff = file_diff(
        "src/a.py",
        "@@ -10,2 +10,3 @@ def prefixed_lines(text):\n"
        "     for item in items:\n"
        "+        wrapped.append(prefixed_lines(item))\n"
        "     return wrapped",
    )
    text = render_diff([diff], {"src/a.py": PYTHON})
    assert "@@ -10,2 +10,3 @@ in: def wrap_all(items):" in text
    for number, code in [(8, "def wrap_all(items):"), (9, "wrapped = []"), (12, "return wrapped")]:
        assert any(ln.startswith(f"{number:>5}") and code in ln for ln in text.splitlines())
    # No line shown twice.
    numbers = [ln[:5].strip() for ln in text.splitlines()[2:] if ln[:5].strip()]
    assert len(numbers) == len(set(numbers))
    # Without the text: git's header, as before.
    assert "in: def prefixed_lines(text):" in render_diff([diff])


def test_a_module_level_change_in_a_parsed_file_gets_no_label() -> None:
    # After a function, partly indented: the parse says it is module-level code (the line
    # heuristics are not consulted for a parsed file).
    text = PYTHON + "\n\nif os.environ.get('WRAP'):\n    wrapped_all = wrap_all([])\n"
    # git's header names the function above, as git does for module-level code.
    diff = file_diff(
        "src/a.py",
        "@@ -16,0 +16,2 @@ def wrap_all(items):\n"
        "+if os.environ.get('WRAP'):\n+    wrapped_all = wrap_all([])",
    )
    parsed = render_diff([diff], {"src/a.py": text})
    assert "@@ -16,0 +16,2 @@\n" in parsed + "\n"
    assert " in: " not in parsed.split("@@ -16,0 +16,2 @@", 1)[1].splitlines()[0]
