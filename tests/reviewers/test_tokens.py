"""The planner's token counts against cl100k_base itself (tiktoken on the whole text)."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
import tiktoken

from reviewers.tokens import ENCODING_NAME, count_line_tokens, count_tokens, token_factor

_ENCODING = tiktoken.get_encoding(ENCODING_NAME)


def _exact(text: str) -> int:
    return len(_ENCODING.encode_ordinary(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "def f(x):\n    return x + 1\n",
        "a" * 100_000,  # one long run: counted in pieces
        ("z" * 5_000 + "\n") * 10,
        "\n" * 20_000,
        " " * 30_000,
        "日本語のテキスト" * 3_000,
        "<|endoftext|> is ordinary text here",
    ],
)
def test_count_is_never_below_cl100k(text: str) -> None:
    exact = _exact(text)
    counted = count_tokens(text)
    assert counted >= exact
    assert counted <= exact * 1.01 + 2


def test_stdlib_sample_counts_match_cl100k_within_one_percent() -> None:
    root = Path(sysconfig.get_paths()["stdlib"])
    sample = sorted(root.glob("*.py"))[:60]
    assert len(sample) == 60
    for path in sample:
        text = path.read_text(encoding="utf-8", errors="replace")
        exact = _exact(text)
        assert exact <= count_tokens(text) <= exact * 1.01 + 2, path.name


def test_provider_factors() -> None:
    assert token_factor("openai") == 1.0
    assert token_factor("anthropic") > 1.0
    assert token_factor(None) >= token_factor("anthropic")


def test_counting_by_line_is_never_lower_and_a_little_higher() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = [f.read_text(errors="replace") for f in sorted(stdlib.glob("*.py"))[:60]]
    texts += [
        "x = 1\n\n\n\n\ny = 2\n",  # blank lines merge in the whole text
        "call(a,\n      b)\n)\n;\n",
        "日本語のコメント\n  # ➡️ emoji\n\t\tindent\n",
        "a" * 5_000 + "\n" + "b" * 3,  # a line longer than a counting segment
        "",
        "\n",
    ]
    whole = by_line = 0
    for text in texts:
        exact, lined = count_tokens(text), count_line_tokens(text)
        assert lined >= exact, text[:80]
        assert count_line_tokens(text) == lined  # the cache answers the same
        whole += exact
        by_line += lined
    assert by_line <= whole * 1.05
