"""Every file not reviewed is named: in the summary comment as far as GitHub's limit allows
(each reason said once, then its files), then in the check run's details; the run's API
record holds the whole list (metrics.not_reviewed)."""

from __future__ import annotations

from app.publish.render import NOT_LISTED_HERE, check_text, summary_body
from app.publish.sanitize import CHECK_OUTPUT_LIMIT, COMMENT_BODY_LIMIT
from tests.publish.helpers import run_facts

HOST = "github.com"
LIMIT = "not reviewed: over the run's limit of 400,000 input tokens"


def test_three_hundred_files_are_all_named_and_each_reason_said_once() -> None:
    items = [(f"src/module_{i:03d}/handlers.py", LIMIT) for i in range(290)]
    items += [("src/big.py", f"lines 10-40, 90-120 {LIMIT}")]
    items += [(f"vendor/lib{i}.js", "generated or vendored file") for i in range(9)]
    body = summary_body(run_facts(items), [], allowed_host=HOST)
    for path, _ in items:
        assert f"`{path}`" in body
    assert body.count(LIMIT) == 1
    assert f"- {LIMIT} (291 files): `src/module_000/handlers.py`, " in body
    assert "`src/big.py` (lines 10-40, 90-120)" in body
    assert "- generated or vendored file (9 files): `vendor/lib0.js`" in body
    assert NOT_LISTED_HERE not in body
    assert "<details>" not in body


def test_three_thousand_files_fill_the_summary_and_the_rest_is_counted() -> None:
    items = [(f"packages/pkg_{i:04d}/src/index_{i:04d}.ts", LIMIT) for i in range(3_000)]
    body = summary_body(run_facts(items), [], allowed_host=HOST)
    assert len(body) <= COMMENT_BODY_LIMIT
    named = sum(1 for path, _ in items if f"`{path}`" in body)
    assert named > 1_000  # ~45 characters a file: well over 1,000 in the space there is
    assert f"- … and {3_000 - named} more, {NOT_LISTED_HERE}" in body
    details = check_text(run_facts(items), allowed_host=HOST)
    assert len(details.encode()) <= CHECK_OUTPUT_LIMIT
    assert "`packages/pkg_0000/src/index_0000.ts`: " + LIMIT in details


def test_no_details_when_everything_was_reviewed() -> None:
    assert check_text(run_facts([]), allowed_host=HOST) == ""
