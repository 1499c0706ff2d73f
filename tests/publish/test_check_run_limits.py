"""A check run's summary is limited to 65,535 bytes, not characters: a summary of wide
characters (CJK paths, emoji) is cut to fit, between characters, and says it was cut."""

from __future__ import annotations

from app.publish.render import check_output, failure_output
from app.publish.sanitize import CHECK_OUTPUT_LIMIT, TRUNCATION_NOTE, truncate_utf8
from tests.publish.helpers import run_facts

HOST = "github.com"


def test_a_summary_of_wide_characters_fits_in_githubs_bytes() -> None:
    # 200 paths of 300 CJK characters: ~60k characters, ~180 kB of UTF-8.
    paths = [(f"文档/{index:03d}/" + "说明" * 150 + ".md", "generated") for index in range(200)]
    _, summary = check_output(run_facts(paths, mode="full"), [], allowed_host=HOST)
    assert len(summary.encode()) <= CHECK_OUTPUT_LIMIT
    assert summary.endswith(TRUNCATION_NOTE)
    summary.encode().decode()  # whole characters only


def test_a_failure_reason_of_emoji_fits_too() -> None:
    _, summary = failure_output("🔥" * 40_000, allowed_host=HOST)
    assert len(summary.encode()) <= CHECK_OUTPUT_LIMIT


def test_cutting_never_splits_a_character() -> None:
    for width_text in ("é" * 100, "说" * 100, "🔥" * 100):
        for limit in range(len(TRUNCATION_NOTE.encode()), 120):
            cut = truncate_utf8(width_text, limit)
            assert len(cut.encode()) <= limit
    assert truncate_utf8("short", 10) == "short"
