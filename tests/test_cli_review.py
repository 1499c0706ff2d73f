"""`sentinel review PATCH`: the same reviewers offline, static always, a model when a key is set."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import jsonschema
import pytest

from sandbox.models import ModelFakeState, serve_anthropic

SENTINEL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "sentinel"
SARIF_SCHEMA = (
    Path(__file__).resolve().parent / "reviewers" / "fixtures" / "sarif-schema-2.1.0.json"
)
KEY = "sk-test-sentinel"

PATCH = """\
diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,7 @@
 import os
+AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLF"
+
+def ratio(total, zero):
+    return total / zero  # BUG: divides by a value that may be zero
 def main():
     return os.environ["HOME"]
"""


async def _sentinel(*args: str, stdin: str, env: dict[str, str]) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    process = await asyncio.create_subprocess_exec(
        str(SENTINEL), *args, env={**clean, **env},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_static_review_finds_the_committed_secret() -> None:
    code, out, err = await _sentinel("review", "-", "--format", "json", stdin=PATCH, env={})
    assert code == 0, err
    report = json.loads(out)
    (finding,) = report["findings"]
    assert (finding["path"], finding["line_start"], finding["severity"]) == (
        "src/app.py",
        2,
        "critical",
    )
    assert "AKIAIOSFODNN7EXAMPLF" not in out


async def test_sarif_is_valid_sarif_2_1_0() -> None:
    code, out, _ = await _sentinel("review", "-", "--format", "sarif", stdin=PATCH, env={})
    assert code == 0
    jsonschema.validate(json.loads(out), json.loads(SARIF_SCHEMA.read_text()))


async def test_a_model_is_used_when_a_key_is_set() -> None:
    state = ModelFakeState(api_keys=[KEY])
    async with serve_anthropic(state) as base_url:
        code, out, err = await _sentinel(
            "review", "-", "--format", "json", stdin=PATCH,
            env={"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": base_url},
        )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    lines = {f["line_start"] for f in report["findings"]}
    assert lines == {2, 5}  # the secret (static) and the division (model)
    assert state.calls
    assert all(KEY not in r.text for r in state.requests)


@pytest.mark.parametrize("key", ["sk-test-wrong"])
async def test_a_rejected_key_is_one_clear_line(key: str) -> None:
    state = ModelFakeState(api_keys=[KEY])
    async with serve_anthropic(state) as base_url:
        code, out, err = await _sentinel(
            "review", "-", stdin=PATCH,
            env={"ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": base_url},
        )  # fmt: skip
    assert code == 1
    assert out == ""
    assert err.startswith("sentinel: error: the Anthropic key was rejected (401)")
    assert key not in err


async def test_a_dry_run_prints_the_plan_and_calls_no_model() -> None:
    state = ModelFakeState(api_keys=[KEY])
    async with serve_anthropic(state) as base_url:
        code, out, err = await _sentinel(
            "review", "-", "--dry-run", "--format", "json", stdin=PATCH,
            env={"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": base_url},
        )  # fmt: skip
    assert code == 0, err
    assert state.requests == []
    plan = json.loads(out)
    assert (plan["provider"], plan["model"]) == ("anthropic", "claude-sonnet-5-5")
    assert [call["files"] for call in plan["calls"]] == [["src/app.py"]]
    assert plan["estimated_input_tokens"] == plan["calls"][0]["estimated_input_tokens"] > 1_000
    assert plan["output_tokens_at_most"] == 4_096
    assert float(plan["cost_at_most_usd"]) > 0
    assert plan["not_reviewed"] == []
    assert KEY not in out


async def test_a_dry_run_in_markdown_names_calls_and_limits() -> None:
    code, out, err = await _sentinel("review", "-", "--dry-run", stdin=PATCH, env={})
    assert code == 0, err
    assert out.startswith("# Sentinel review plan (dry run: no model was called)")
    assert "Limits: 20 calls, 400,000 input tokens." in out
    assert "## Call 1: ~" in out
    code, _, err = await _sentinel(
        "review", "-", "--dry-run", "--format", "sarif", stdin=PATCH, env={}
    )
    assert code != 0
    assert "--dry-run prints a plan" in err
