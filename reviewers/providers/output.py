"""How the adapters ask for the model output schema (CONTRACT.md "Model output schema") and
read the answer back.

Two ways to ask, both constrained by the same JSON Schema:
- "tool": one tool, `report_findings`, whose input schema is the output schema, and a
  tool choice that forces it. The answer is the tool call's input.
- "json_schema": the API's structured-output setting (Anthropic `output_config.format`,
  OpenAI `response_format`). The answer is the message text, a JSON document.

The schema is passed through untouched. OpenAI's strict mode (which both of its modes use)
accepts only schemas in which every object lists all of its properties in `required` and sets
`additionalProperties: false`; optional values are expressed as a union with null. The engine
builds its schema that way; an adapter never rewrites it, so what is validated afterwards is
exactly what was asked for.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from reviewers.linear import compile_linear

OutputMode = Literal["tool", "json_schema"]

TOOL_NAME = "report_findings"
TOOL_DESCRIPTION = (
    "Report the findings of this code review. Call it exactly once with every finding; "
    "an empty list means the reviewed changes have no problems worth reporting."
)

# RE2 (linear): model output is hostile input, and `\s*\n` before `.*` backtracks in `re`.
_FENCE = compile_linear(r"(?s)^```[\w-]*\s*\n(?P<body>.*)\n```\s*$")


def parse_json_object(text: str | None) -> dict[str, Any] | None:
    """The JSON object in `text`, or None. Tolerates a Markdown code fence around it, which
    compatible endpoints without real structured output tend to add; anything else that is
    not exactly one JSON object counts as malformed and goes to the repair step."""
    if not text:
        return None
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = (fenced.group("body") or "").strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
