"""OpenAI's strict-mode schema rules, as its API enforces them on `strict: true` function
parameters and `json_schema` response formats: every object must set
`additionalProperties: false` and list every property in `required`. A schema that breaks
them is refused with a 400 before the model runs, so the fake refuses it too."""

from __future__ import annotations

from typing import Any

Context = tuple[str, ...]


def strict_schema_problem(schema: Any) -> str | None:
    """The first rule `schema` breaks, in OpenAI's wording, or None."""
    if not isinstance(schema, dict) or _types(schema) != {"object"}:
        return (
            "In context=(), schema must be a JSON Schema of 'type: \"object\"', got 'type: None'."
        )
    return _check(schema, ())


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    return set(declared) if isinstance(declared, list) else set()


def _check(node: Any, context: Context) -> str | None:
    if not isinstance(node, dict):
        return None
    if "object" in _types(node) or "properties" in node:
        properties = node.get("properties") or {}
        if node.get("additionalProperties") is not False:
            return (
                f"In context={context!r}, 'additionalProperties' is required to be supplied "
                "and to be false."
            )
        missing = [name for name in properties if name not in (node.get("required") or [])]
        if missing:
            return (
                f"In context={context!r}, 'required' is required to be supplied and to be an "
                f"array including every key in properties. Missing '{missing[0]}'."
            )
        for name, child in properties.items():
            problem = _check(child, (*context, "properties", name))
            if problem:
                return problem
    children: list[tuple[Any, Context]] = []
    if "items" in node:
        children.append((node["items"], (*context, "items")))
    for keyword in ("anyOf", "allOf"):
        for index, child in enumerate(node.get(keyword) or []):
            children.append((child, (*context, keyword, str(index))))
    for keyword in ("$defs", "definitions"):
        for name, child in (node.get(keyword) or {}).items():
            children.append((child, (*context, keyword, name)))
    for child, where in children:
        problem = _check(child, where)
        if problem:
            return problem
    return None
