from __future__ import annotations

import math
import random

import pytest

from reviewers.budget import INPUT_SAFETY, file_tokens, plan_chunks
from reviewers.config import PathInstruction
from reviewers.diff import FileDiff
from tests.reviewers.helpers import file_diff, new_file


def estimate_file_tokens(file: FileDiff) -> int:
    base, hunks = file_tokens(file)
    return base + sum(hunks)


def estimate_hunk_tokens(file: FileDiff, index: int = 0) -> int:
    return file_tokens(file)[1][index]


def _sized(path: str, lines: int, width: int = 40) -> FileDiff:
    return new_file(path, ["x" * width] * lines)


def _room(window: int, output: int, overhead: int) -> int:
    return math.floor((window - output - overhead) * INPUT_SAFETY)


def test_small_files_share_one_chunk() -> None:
    files = [_sized(f"src/f{i}.py", 5) for i in range(10)]
    plan = plan_chunks(
        files,
        context_window=100_000,
        max_output_tokens=4_000,
        prompt_overhead_tokens=1_000,
        max_calls=5,
    )
    assert len(plan.chunks) == 1
    assert sorted(plan.chunks[0].paths) == sorted(f.path for f in files)
    assert plan.not_reviewed == []
    assert not plan.chunks[0].partial


def test_order_is_path_instruction_priority_then_change_size() -> None:
    files = [
        _sized("docs/a.md", 50),
        _sized("src/small.py", 2),
        _sized("src/big.py", 30),
        _sized("src/payments/pay.py", 1),
        _sized("lib/x.py", 10),
    ]
    instructions = [
        PathInstruction(path="src/payments/**", instructions="money"),
        PathInstruction(path="src/**", instructions="core"),
    ]
    plan = plan_chunks(
        files,
        context_window=200_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=0,
        max_calls=1,
        path_instructions=instructions,
    )
    assert plan.chunks[0].paths == [
        "src/payments/pay.py",  # first instruction
        "src/big.py",  # second instruction, larger change first
        "src/small.py",
        "docs/a.md",  # no instruction, larger change first
        "lib/x.py",
    ]


def test_chunks_respect_the_budget_and_the_call_limit_names_the_rest() -> None:
    files = [_sized(f"src/f{i:02}.py", 40) for i in range(30)]
    per_file = estimate_file_tokens(files[0])
    window, output, overhead = 4 * per_file + 2_000, 1_000, 500
    room = _room(window, output, overhead)
    plan = plan_chunks(
        files,
        context_window=window,
        max_output_tokens=output,
        prompt_overhead_tokens=overhead,
        max_calls=3,
    )
    assert len(plan.chunks) == 3
    assert all(chunk.estimated_tokens <= room for chunk in plan.chunks)
    planned = {p for chunk in plan.chunks for p in chunk.paths}
    skipped = {path for path, _ in plan.not_reviewed}
    assert planned.isdisjoint(skipped)
    assert planned | skipped == {f.path for f in files}
    assert {reason for _, reason in plan.not_reviewed} == {
        "not reviewed: over the run's limit of 3 model calls"
    }


def test_a_file_too_large_for_one_chunk_is_split_by_hunks() -> None:
    hunks = "\n".join(
        f"@@ -{i * 100 + 1},1 +{i * 100 + 1},2 @@\n ctx{i}\n+" + "y" * 600 for i in range(10)
    )
    big = file_diff("src/big.py", hunks)
    one_hunk = estimate_hunk_tokens(big)
    plan = plan_chunks(
        [big],
        context_window=3 * one_hunk + 1_100,
        max_output_tokens=1_000,
        prompt_overhead_tokens=0,
        max_calls=10,
    )
    assert len(plan.chunks) > 1
    assert all(chunk.partial for chunk in plan.chunks)
    shown = [h.new_start for chunk in plan.chunks for f in chunk.files for h in f.hunks]
    assert sorted(shown) == [h.new_start for h in big.hunks]
    assert plan.not_reviewed == []


def test_a_huge_hunk_is_split_by_lines_without_losing_or_renumbering_lines() -> None:
    big = _sized("src/new_module.py", 2_000)  # one hunk of 2,000 added lines
    plan = plan_chunks(
        [big],
        context_window=8_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=500,
        max_calls=50,
    )
    assert len(plan.chunks) > 1
    seen = [
        line.new_line
        for chunk in plan.chunks
        for f in chunk.files
        for h in f.hunks
        for line in h.lines
    ]
    assert seen == list(range(1, 2_001))
    for chunk in plan.chunks:
        for hunk in chunk.files[0].hunks:
            assert hunk.new_start == hunk.lines[0].new_line
            assert hunk.new_length == len(hunk.lines)


def test_a_line_longer_than_a_call_is_named_not_reviewed() -> None:
    minified = new_file("src/bundle.py", ["short()", "z" * 50_000, "tail()"])
    plan = plan_chunks(
        [minified],
        context_window=6_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=0,
        max_calls=5,
    )
    assert plan.not_reviewed == [
        ("src/bundle.py", "lines 2 not reviewed: too large for the model's context window")
    ]
    seen = [
        line.new_line for c in plan.chunks for f in c.files for h in f.hunks for line in h.lines
    ]
    assert seen == [1, 3]


def test_partial_call_limit_names_the_line_ranges_left_out() -> None:
    hunks = "\n".join(
        f"@@ -{i * 100 + 1},0 +{i * 100 + 1},3 @@\n" + "\n".join(["+" + "q" * 300] * 3)
        for i in range(4)
    )
    big = file_diff("src/big.py", hunks)
    one = estimate_hunk_tokens(big)
    plan = plan_chunks(
        [big], context_window=one + 200, max_output_tokens=0, prompt_overhead_tokens=0, max_calls=2
    )
    assert len(plan.chunks) == 2
    assert plan.not_reviewed == [
        ("src/big.py", "lines 201-203, 301-303 not reviewed: over the run's limit of 2 model calls")
    ]


@pytest.mark.parametrize(
    ("window", "calls", "reason"),
    [
        (5_000, 0, "not reviewed by a model: the policy allows no model calls for this run"),
        (
            4_500,
            5,
            "not reviewed: the model's context window (4500 tokens) leaves no room for code "
            "after the prompt and the reserved output",
        ),
    ],
)
def test_nothing_fits(window: int, calls: int, reason: str) -> None:
    files = [_sized("a.py", 3), _sized("b.py", 3)]
    plan = plan_chunks(
        files,
        context_window=window,
        max_output_tokens=4_000,
        prompt_overhead_tokens=600,
        max_calls=calls,
    )
    assert plan.chunks == []
    assert plan.not_reviewed == [("a.py", reason), ("b.py", reason)]


def test_every_file_is_planned_or_named() -> None:
    rng = random.Random(7)
    files = [_sized(f"m{i}.py", rng.randint(1, 400), rng.randint(5, 120)) for i in range(60)]
    plan = plan_chunks(
        files,
        context_window=16_000,
        max_output_tokens=2_000,
        prompt_overhead_tokens=800,
        max_calls=6,
    )
    planned = {p for c in plan.chunks for p in c.paths}
    named = {p for p, _ in plan.not_reviewed}
    assert planned | named == {f.path for f in files}
    assert len(plan.chunks) <= 6
    assert all(c.estimated_tokens <= _room(16_000, 2_000, 800) for c in plan.chunks)


def _prompt_tokens(chunk_files: tuple[FileDiff, ...], partial: bool) -> int:
    from reviewers.config import ReviewConfig
    from reviewers.engine import PullRequestContext
    from reviewers.render import build_request
    from reviewers.tokens import count_tokens

    request = build_request(
        chunk_files, PullRequestContext(), ReviewConfig(), 1_000, partial=partial
    )
    return count_tokens(request.system) + count_tokens(request.prompt)


def _empty_prompt_tokens() -> int:
    from reviewers.config import ReviewConfig
    from reviewers.engine import PullRequestContext
    from reviewers.render import render_prompt
    from reviewers.tokens import count_tokens

    system, user = render_prompt([], PullRequestContext(), ReviewConfig(), partial=True)
    return count_tokens(system) + count_tokens(user)


def test_the_price_is_what_the_prompt_costs_never_less_and_little_more() -> None:
    rng = random.Random(11)
    words = ["self", "return", "x", "(", ")", "{", "}", "==", "'s'", "0x1f", "日本", "  ", "->"]
    files = []
    for i in range(40):
        hunks = []
        for h in range(rng.randint(1, 6)):
            lines = [
                rng.choice("+- ") + " ".join(rng.choices(words, k=rng.randint(0, 30)))
                for _ in range(rng.randint(1, 30))
            ]
            old = sum(1 for ln in lines if ln[0] != "+")
            new = sum(1 for ln in lines if ln[0] != "-")
            hunks.append(
                f"@@ -{h * 100 + 1},{old} +{h * 100 + 1},{new} @@ def f{h}():\n" + "\n".join(lines)
            )
        files.append(file_diff(f"src/m{i}.py", "\n".join(hunks)))
    overhead = _empty_prompt_tokens() + 50
    plan = plan_chunks(
        files,
        context_window=12_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=overhead,
        max_calls=50,
    )
    assert len(plan.chunks) > 3
    for chunk in plan.chunks:
        real = _prompt_tokens(chunk.files, chunk.partial)
        priced = chunk.estimated_tokens + overhead
        assert real <= priced, (real, priced)
        assert priced <= real * 1.05 + 60, (real, priced)  # the join newlines and the slack
    # First-fit on exact prices fills the calls: all but the last at least 85% of the room.
    room = _room(12_000, 1_000, overhead)
    assert all(c.estimated_tokens >= 0.85 * room for c in plan.chunks[:-1])


def test_the_run_input_limit_stops_the_plan_and_names_the_rest() -> None:
    files = [_sized(f"src/f{i:02}.py", 40) for i in range(30)]
    per_file = estimate_file_tokens(files[0])
    overhead = 500
    limit = overhead * 2 + per_file * 7 + per_file // 2  # two calls' prompts and 7½ files
    plan = plan_chunks(
        files,
        context_window=4 * per_file + 2_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=overhead,
        max_calls=10,
        max_input_tokens=limit,
    )
    assert plan.estimated_input_tokens <= limit
    planned = [p for c in plan.chunks for p in c.paths]
    assert len(planned) == 7
    assert len(plan.not_reviewed) == 23
    assert {reason for _, reason in plan.not_reviewed} == {
        f"not reviewed: over the run's limit of {limit:,} input tokens"
    }


def test_the_monthly_budget_gives_its_own_reason() -> None:
    files = [_sized("a.py", 3), _sized("b.py", 300)]
    plan = plan_chunks(
        files,
        context_window=100_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=500,
        max_calls=5,
        max_input_tokens=600,
        input_limit_reason="the workspace's monthly token budget (1,000,000; 600 left)",
    )
    assert plan.chunks[0].paths == ["a.py"]
    assert plan.not_reviewed == [
        ("b.py", "not reviewed: over the workspace's monthly token budget (1,000,000; 600 left)")
    ]


def test_a_budget_that_cannot_pay_one_prompt_reviews_nothing() -> None:
    files = [_sized("a.py", 3)]
    plan = plan_chunks(
        files,
        context_window=100_000,
        max_output_tokens=1_000,
        prompt_overhead_tokens=500,
        max_calls=5,
        max_input_tokens=400,
    )
    assert plan.chunks == []
    assert plan.not_reviewed == [("a.py", "not reviewed: over the run's limit of 400 input tokens")]


def test_definitions_and_whole_functions_are_priced_as_sent() -> None:
    from reviewers.config import ReviewConfig
    from reviewers.engine import PullRequestContext
    from reviewers.render import build_request
    from reviewers.tokens import count_tokens

    body = "".join(f"    step_{i}(value, {i})\n" for i in range(40))
    library = "def helper_fn(value, n):\n" + "".join(f"    x{i} = value * {i}\n" for i in range(30))
    library += "    return n\n"
    caller = "def run(value):\n" + body + "    return value\n"
    texts = {"lib.py": library, "app.py": caller}
    app = file_diff(
        "app.py",
        "@@ -20,2 +20,3 @@\n     step_18(value, 18)\n+    helper_fn(value, 1)\n"
        "     step_19(value, 19)",
    )
    lib = file_diff("lib.py", "@@ -32,1 +32,1 @@\n-    return 0\n+    return n")
    overhead = _empty_prompt_tokens() + 50
    plan = plan_chunks(
        [app, lib], context_window=100_000, max_output_tokens=1_000,
        prompt_overhead_tokens=overhead, max_calls=5, new_texts=texts,
    )  # fmt: skip
    (chunk,) = plan.chunks
    request = build_request(
        chunk.files, PullRequestContext(), ReviewConfig(), 1_000, new_texts=texts,
        partial=chunk.partial, definitions=chunk.definitions,
    )  # fmt: skip
    real = count_tokens(request.system) + count_tokens(request.prompt)
    assert "in: def run(value):" in request.prompt
    assert real <= chunk.estimated_tokens + overhead
    # helper_fn's lines are touched by lib.py's hunk (its return), so it is not repeated.
    assert chunk.definitions == ()
    # Alone in its call, app.py gets helper_fn's definition, within the call's room.
    alone = plan_chunks(
        [app], context_window=100_000, max_output_tokens=1_000,
        prompt_overhead_tokens=overhead, max_calls=5, new_texts=texts,
    )  # fmt: skip
    assert [d.name for d in alone.chunks[0].definitions] == ["helper_fn"]
    tight = plan_chunks(
        [app], context_window=alone.chunks[0].estimated_tokens - 50 + overhead + 1_000 + 40,
        max_output_tokens=1_000, prompt_overhead_tokens=overhead, max_calls=5, new_texts=texts,
    )  # fmt: skip
    assert tight.chunks[0].definitions == ()  # no room left for it: context gives way


def test_a_split_file_is_charged_what_each_part_shows() -> None:
    from reviewers.config import ReviewConfig
    from reviewers.engine import PullRequestContext
    from reviewers.render import build_request
    from reviewers.tokens import count_tokens

    # One function too long to show whole (400 lines), edited every 5 lines: shown apart,
    # each hunk brings 15 lines either side; in one part, neighbouring hunks share them.
    body = "".join(f"    total = total + step_{i}(value, {i})\n" for i in range(400))
    text = "def run(value):\n    total = 0\n" + body + "    return total\n"
    hunks = "\n".join(
        f"@@ -{i + 3},1 +{i + 3},1 @@\n-    total = total + step_{i}(value, {i})\n"
        f"+    total = total + step_{i}(value, {i} + 1)"
        for i in range(0, 150, 5)
    )
    big = file_diff("app.py", hunks)
    texts = {"app.py": text}
    overhead = _empty_prompt_tokens() + 50
    plan = plan_chunks(
        [big], context_window=overhead + 1_000 + 1_600, max_output_tokens=1_000,
        prompt_overhead_tokens=overhead, max_calls=50, new_texts=texts,
    )  # fmt: skip
    assert len(plan.chunks) >= 2, "the file is split"
    assert plan.not_reviewed == []
    for chunk in plan.chunks:
        request = build_request(
            chunk.files, PullRequestContext(), ReviewConfig(), 1_000, new_texts=texts,
            partial=chunk.partial, definitions=chunk.definitions,
        )  # fmt: skip
        real = count_tokens(request.system) + count_tokens(request.prompt)
        priced = chunk.estimated_tokens + overhead
        assert real <= priced, (real, priced)
        assert priced <= real * 1.05 + 60, (real, priced)  # as shown, not as shown apart
