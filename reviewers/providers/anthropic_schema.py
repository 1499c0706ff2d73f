"""The output schema as Anthropic's structured output (`output_config.format`) accepts it.

Anthropic compiles that schema into a grammar and supports a subset of JSON Schema: objects
must set `additionalProperties: false`, and numeric, string-length and most array bounds
(`minimum`, `maximum`, `maxLength`, ...) are refused with a 400 ("For 'integer' type,
property 'minimum' is not supported"). The SDK's own `transform_schema` (what its `parse()`
helpers use) moves such bounds into the description; it does not accept a type list such as
`["string", "null"]`, so those become `anyOf` first. Nothing is lost: the engine validates
the answer against its full schema afterwards.

The forced-tool mode sends the schema untouched; plain tool input schemas take full JSON Schema.
"""

from __future__ import annotations

from typing import Any

import anthropic

# Keywords that describe a value rather than constrain its type; they stay on the outer node
# when a type list is split into variants.
_ANNOTATIONS = frozenset({"description", "title", "default", "examples"})
_NESTED_MAPS = ("properties", "$defs", "definitions")
_NESTED_LISTS = ("anyOf", "allOf", "oneOf")


def structured_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return anthropic.transform_schema(_split_type_lists(schema))


def _split_type_lists(node: Any) -> Any:
    if isinstance(node, list):
        return [_split_type_lists(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nested(key, value) for key, value in node.items()}
    types = out.get("type")
    if not isinstance(types, list):
        return out
    outer = {key: value for key, value in out.items() if key in _ANNOTATIONS}
    shape = {key: value for key, value in out.items() if key not in _ANNOTATIONS | {"type"}}
    outer["anyOf"] = [
        {"type": "null"} if kind == "null" else {**shape, "type": kind} for kind in types
    ]
    return outer


def _nested(key: str, value: Any) -> Any:
    if key in _NESTED_MAPS and isinstance(value, dict):
        return {name: _split_type_lists(child) for name, child in value.items()}
    if key in _NESTED_LISTS or key == "items":
        return _split_type_lists(value)
    return value
