"""The prompt templates and their version.

Templates are Jinja2 with StrictUndefined: a missing value is an error, never an empty
string silently sent to a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

# Bump on any change to a template or to how the diff is rendered (reviewers/render.py);
# stored with every run so a finding can be traced to the exact prompt that produced it.
PROMPT_VERSION = "2026-12-07.2"

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    undefined=jinja2.StrictUndefined,
    # Prompts are plain text: HTML escaping would corrupt code. Untrusted text is neutralised
    # by sanitising and data sections instead.
    autoescape=False,  # noqa: S701
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_template(name: str, **values: Any) -> str:
    return _ENV.get_template(name).render(**values)
