"""The definition (function, method, class, impl…) a change sits in, from a real parser.

With the new file's text, tree-sitter parses it (grammars for Python, JavaScript, TypeScript
and TSX, Go, Java, Ruby, Rust) and the smallest definition node that holds every changed line
of a hunk is its scope: the prompt then shows that whole definition around the hunk (within
`MAX_SCOPE_LINES`), so the model reads what a human reviewer would scroll to. Other languages,
a file too large to parse or a parse that fails fall back to reviewers/context.py's line
heuristics, which give the signature only.

Tree-sitter parses in time linear in the input for these grammars, but a pull request is
hostile: only files up to `MAX_PARSE_BYTES` are parsed, each parse at most once per text
(cached), and callers run this in a worker thread.
"""

from __future__ import annotations

import functools
import importlib
import posixpath
from dataclasses import dataclass
from typing import Any

import tree_sitter

MAX_PARSE_BYTES = 512_000
# The most lines of a definition shown around one hunk; a longer one shows its signature and
# `EDGE_LINES` lines on each side of the hunk instead.
MAX_SCOPE_LINES = 200
EDGE_LINES = 15

_EXTENSIONS = {
    "py": "python", "pyi": "python",
    "js": "javascript", "jsx": "javascript", "mjs": "javascript", "cjs": "javascript",
    "ts": "typescript", "mts": "typescript", "cts": "typescript", "tsx": "tsx",
    "go": "go", "java": "java", "rb": "ruby", "rs": "rust",
}  # fmt: skip

_JS_DEFINITIONS = frozenset(
    {
        "function_declaration", "generator_function_declaration", "method_definition",
        "class_declaration", "class", "function_expression", "arrow_function",
        "interface_declaration", "enum_declaration", "abstract_class_declaration",
        "type_alias_declaration", "module", "internal_module",
    }
)  # fmt: skip
DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition", "decorated_definition"}),
    "javascript": _JS_DEFINITIONS,
    "typescript": _JS_DEFINITIONS,
    "tsx": _JS_DEFINITIONS,
    "go": frozenset({"function_declaration", "method_declaration", "type_declaration"}),
    "java": frozenset(
        {
            "method_declaration",
            "constructor_declaration",
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
        }
    ),
    "ruby": frozenset({"method", "singleton_method", "class", "module"}),
    "rust": frozenset(
        {"function_item", "impl_item", "struct_item", "enum_item", "trait_item", "mod_item"}
    ),
}


@dataclass(frozen=True)
class Scope:
    start_line: int  # 1-based, inclusive, in the new file
    end_line: int
    signature: str  # the definition's first line, as written


def parsed_language(path: str) -> str | None:
    """The tree-sitter grammar for `path`, or None."""
    name = posixpath.basename(path)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _EXTENSIONS.get(extension)


@functools.cache
def _parser(language: str) -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(_grammar(language)))


_GRAMMARS = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "rust": ("tree_sitter_rust", "language"),
}


def _grammar(language: str) -> Any:
    """The grammar's compiled language (imported on first use: a worker reviewing only Go
    never loads the others)."""
    module, function = _GRAMMARS[language]
    return getattr(importlib.import_module(module), function)()


@functools.lru_cache(maxsize=32)
def _tree(language: str, text: str) -> tree_sitter.Tree | None:
    data = text.encode("utf-8", errors="replace")
    if len(data) > MAX_PARSE_BYTES:
        return None
    try:
        return _parser(language).parse(data)
    except (ValueError, RuntimeError):
        return None


# A function written as a value is a definition when it is given a name (`const f = () =>`,
# a method in an object literal, a class field); a callback passed inline is not.
_NAMING_PARENTS = frozenset(
    {"variable_declarator", "pair", "assignment_expression", "public_field_definition",
     "field_definition", "export_statement"}
)  # fmt: skip


def _named_definition(node: tree_sitter.Node) -> bool:
    if node.type not in ("arrow_function", "function_expression", "class"):
        return True
    return node.parent is not None and node.parent.type in _NAMING_PARENTS


def parses(path: str, text: str | None) -> bool:
    """Whether `text` has a parse: then a hunk `enclosing_scope` finds nothing for is at
    module level, and guessing from indentation would only mislabel it."""
    language = parsed_language(path)
    if language is None or text is None:
        return False
    key = (path, text)
    if key not in _PARSES:
        if len(_PARSES) >= _SCOPES_LIMIT:
            _PARSES.clear()
        _PARSES[key] = _tree(language, text) is not None
    return _PARSES[key]


_PARSES: dict[tuple[str, str], bool] = {}


# Scopes already found, by (path, text, first, last): the budget prices a hunk and the call
# renders it later, when the parse may have left `_tree`'s small cache. Cleared when full;
# the texts it refers to are the ones the review holds anyway.
_SCOPES: dict[tuple[str, str, int, int], Scope | None] = {}
_SCOPES_LIMIT = 8_192


def enclosing_scope(
    path: str, text: str | None, lines: list[str] | None, first: int, last: int
) -> Scope | None:
    """The smallest definition holding new lines `first`..`last` (1-based), or None when
    the file is not parsed or the lines are at module level."""
    if text is None or lines is None or first < 1 or parsed_language(path) is None:
        return None
    key = (path, text, first, last)
    if key in _SCOPES:
        return _SCOPES[key]
    found = _enclosing_scope(path, text, lines, first, last)
    if len(_SCOPES) >= _SCOPES_LIMIT:
        _SCOPES.clear()
    _SCOPES[key] = found
    return found


def _enclosing_scope(path: str, text: str, lines: list[str], first: int, last: int) -> Scope | None:
    language = parsed_language(path)
    if language is None:
        return None
    tree = _tree(language, text)
    if tree is None:
        return None
    last = max(first, min(last, len(lines)))
    node = tree.root_node.descendant_for_point_range((first - 1, 0), (last - 1, 0))
    kinds = DEFINITIONS[language]
    while node is not None and not (
        node.type in kinds
        and node.start_point[0] <= first - 1
        and node.end_point[0] >= last - 1
        and _named_definition(node)
    ):
        node = node.parent
    if node is None:
        return None
    if node.parent is not None and node.parent.type == "decorated_definition":
        node = node.parent  # its decorators belong to it
    start, end = node.start_point[0] + 1, node.end_point[0] + 1
    if node.end_point[1] == 0 and end > start:
        end -= 1  # the node ends at the start of the next line
    inner = node.child_by_field_name("definition") if node.type == "decorated_definition" else None
    row = inner.start_point[0] if inner is not None else start - 1
    signature = lines[row].strip() if row < len(lines) else ""
    return Scope(start, end, signature)


@dataclass(frozen=True)
class Definition:
    name: str
    path: str
    start_line: int  # 1-based, inclusive
    end_line: int


_NAME_FIELDS = ("name",)


def definitions(path: str, text: str) -> list[Definition]:
    """The named definitions in a file (functions, methods, classes, types…), outermost
    first, from its parse; [] for a file that is not parsed."""
    language = parsed_language(path)
    if language is None:
        return []
    tree = _tree(language, text)
    if tree is None:
        return []
    # The grammar's query engine finds the definition nodes (in C); Python looks at those
    # only, not at every node of the file.
    nodes = tree_sitter.QueryCursor(_definition_query(language)).captures(tree.root_node)
    ordered = sorted(nodes.get("definition", []), key=lambda n: (n.start_byte, -n.end_byte))
    found: list[Definition] = []
    for node in ordered:
        if len(found) >= MAX_DEFINITIONS:
            break
        if node.parent is not None and node.parent.type == "decorated_definition":
            continue  # the decorated definition around it stands for it
        name = _name_of(node)
        if name:
            end = node.end_point[0] + 1
            if node.end_point[1] == 0 and end > node.start_point[0] + 1:
                end -= 1
            found.append(Definition(name, path, node.start_point[0] + 1, end))
    return found


MAX_DEFINITIONS = 2_000


@functools.cache
def _definition_query(language: str) -> tree_sitter.Query:
    """Every node of the language's definition kinds (those its grammar has)."""
    grammar = tree_sitter.Language(_grammar(language))
    kinds = [k for k in sorted(DEFINITIONS[language]) if grammar.id_for_node_kind(k, True)]
    return tree_sitter.Query(grammar, "[" + " ".join(f"({k})" for k in kinds) + "] @definition")


def _name_of(node: tree_sitter.Node) -> str | None:
    named = node.child_by_field_name("name")
    if named is None and node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        named = inner.child_by_field_name("name") if inner is not None else None
    if named is None and node.parent is not None and node.parent.type == "variable_declarator":
        named = node.parent.child_by_field_name("name")
    if named is None or named.text is None:
        return None
    return named.text.decode("utf-8", errors="replace")
