"""Every matcher that sees pull-request content, tenant globs or model output runs in linear time.

The attack inputs are the ones that stalled a worker with Python's backtracking `re` (an added
line of `token` repeated took 1.1 s at 1,000 characters and 9 s at 2,000; eight nested `**`
took 1.5 s on one path). Each test runs the attack at 64 KB, where the old patterns would take
hours, and checks the answer as well as that it finishes; the bound is a guard three orders of
magnitude above what the linear code needs, not a performance target (those are in
`make bench`)."""

from __future__ import annotations

import re
import time
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewers import context, filters, globs, linear, output, untrusted
from reviewers.diff import parse_unified_diff
from reviewers.providers import output as provider_output
from reviewers.static import secrets

LINE = 64 * 1024
# CPU seconds a 64 KB attack line may take here; the linear code needs about a millisecond.
GUARD_SECONDS = 1.0


def cpu_seconds(work, *args):
    start = time.process_time()
    result = work(*args)
    return result, time.process_time() - start


@pytest.mark.parametrize(
    "module", [secrets, globs, context, filters, output, provider_output, untrusted]
)
def test_matchers_hold_no_backtracking_patterns(module: ModuleType) -> None:
    # The root fix: a module-level `re` pattern in these modules is a regression.
    backtracking = [name for name, value in vars(module).items() if isinstance(value, re.Pattern)]
    assert backtracking == []


@pytest.mark.parametrize("unit", ["token", "secret_", 'password"', "api-key."])
def test_secret_scan_of_a_repeated_credential_name_is_linear(unit: str) -> None:
    line = unit * (LINE // len(unit))
    found, seconds = cpu_seconds(secrets.find_secrets, line)
    assert found == []
    assert seconds < GUARD_SECONDS


def test_secret_scan_still_finds_a_real_assignment_after_an_attack_prefix() -> None:
    line = "token" * 2000 + ' api_token = "q8Zr2LmX0vT4kP9w"'
    found, seconds = cpu_seconds(secrets.find_secrets, line)
    assert [m.kind for m in found] == ["hard-coded credential"]
    assert line[found[0].start : found[0].end] == "q8Zr2LmX0vT4kP9w"
    assert seconds < GUARD_SECONDS


def test_quoted_assignment_needs_matching_quotes() -> None:
    # RE2 has no back-reference: the alternatives must still pair the quotes.
    assert secrets.find_secrets("token = \"q8Zr2LmX0vT4kP9w'") == []
    assert len(secrets.find_secrets("token = 'q8Zr2LmX0vT4kP9w'")) == 1


def test_aws_secret_near_an_id_is_a_whole_run_of_forty() -> None:
    diff = (
        "diff --git a/c.env b/c.env\n--- a/c.env\n+++ b/c.env\n@@ -0,0 +1,3 @@\n"
        "+id = AKIAQ3EGRK7NXMBDL5PZ\n"
        "+other = wJalrXUtnFEMI/K7MDENG/bPxRfiCYq3x9Lm2Pq7\n"
        "+longer = wJalrXUtnFEMI/K7MDENG/bPxRfiCYq3x9Lm2Pq7Z\n"
    )
    findings = secrets.scan(parse_unified_diff(diff))
    kinds = sorted((f.line_start, f.extra["detector"]) for f in findings)
    assert kinds == [(1, "AWS access key ID"), (2, "AWS secret access key")]


def test_nested_double_star_globs_are_linear() -> None:
    glob = "/".join(["**"] * 32) + "/x.py"
    path = "a/" * 2000 + "y.py"
    matched, seconds = cpu_seconds(globs.glob_match, glob, path)
    assert matched is False
    assert globs.glob_match(glob, "a/" * 2000 + "x.py")
    assert seconds < GUARD_SECONDS


def test_an_invalid_tenant_glob_is_a_config_error() -> None:
    from pydantic import ValidationError

    from reviewers.config import ReviewConfig

    with pytest.raises(ValidationError, match="not a valid glob"):
        ReviewConfig(path_filters=["[z-a]"])


@pytest.mark.parametrize(
    "line", ["a" * LINE + "(", " " * LINE + "x", '"' + "\\x" * (LINE // 2), "f(" + "a " * LINE]
)
def test_brace_declaration_heuristic_is_linear(line: str) -> None:
    _, seconds = cpu_seconds(context._signature_at, [line], 0)
    assert seconds < GUARD_SECONDS


def test_generated_marker_search_is_linear() -> None:
    line = "Code generated " * (LINE // 15)
    found, seconds = cpu_seconds(filters._GENERATED_MARKER.search, line)
    assert found is None
    assert seconds < GUARD_SECONDS


@pytest.mark.parametrize("parse", [output.extract_json, provider_output.parse_json_object])
def test_fenced_model_output_is_parsed_in_linear_time(parse) -> None:
    hostile = "```" + " " * LINE + "\n" + "\n ``` " * (LINE // 6)
    _, seconds = cpu_seconds(parse, hostile)
    assert seconds < GUARD_SECONDS
    assert parse('```json\n{"a": 1}\n```') == {"a": 1}


def test_linear_sub_matches_re_sub_for_literal_replacements() -> None:
    pattern = linear.compile_linear(r"a+")
    assert pattern.sub("-", "baaac aa") == re.sub(r"a+", "-", "baaac aa")


# Lines made of the pieces that drove the old patterns into backtracking, in any order.
_PIECES = st.sampled_from(
    ['"', "'", "token", "secret", "_", "-", ".", "=", ":", " ", "(", ")", "{", "a", "**", "/"]
)
# Runs of one piece matter most (`token` x 400 cost the old scanner 9 s), so lines are built
# from runs.
_RUNS = st.tuples(_PIECES, st.integers(min_value=1, max_value=400)).map(lambda r: r[0] * r[1])
_HOSTILE_LINES = st.lists(_RUNS, min_size=1, max_size=12).map("".join).filter(bool)
# Per character, averaged over the line, after a fixed allowance for the calls themselves: the
# linear matchers need well under a microsecond; the backtracking ones needed milliseconds.
_GUARD_SECONDS_PER_CHAR = 20e-6
_GUARD_SECONDS_FIXED = 0.01


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HOSTILE_LINES)
def test_fuzz_matchers_take_bounded_time_per_character(line: str) -> None:
    start = time.process_time()
    secrets.find_secrets(line)
    secrets.redact_lines([line])
    context._signature_at([line], 0)
    filters._GENERATED_MARKER.search(line)
    globs.glob_match("src/**/**/**/*.py", line)
    output.extract_json(line)
    untrusted.sanitize_untrusted(line)
    elapsed = time.process_time() - start
    assert elapsed < _GUARD_SECONDS_FIXED + len(line) * _GUARD_SECONDS_PER_CHAR
