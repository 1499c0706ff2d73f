"""The JSON Schema of `.sentinel.yml`, generated from reviewers.config.ReviewConfig.

The committed copy (schemas/sentinel.schema.json) is what editors and CI linters use; a test
fails when it falls behind the model. Regenerate with `python -m app.policy.schema`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reviewers.config import ReviewConfig

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "sentinel.schema.json"


def repository_file_schema() -> dict[str, Any]:
    schema = ReviewConfig.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sentinel.dev/schemas/sentinel.schema.json",
        "title": ".sentinel.yml",
        "description": (
            "Review settings a repository may set, read from the root of the pull request's "
            "base branch. Providers, models, keys and budgets are chosen by workspace admins "
            "and cannot be set here."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def render() -> str:
    return json.dumps(repository_file_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render())
    sys.stdout.write(f"wrote {SCHEMA_PATH}\n")
