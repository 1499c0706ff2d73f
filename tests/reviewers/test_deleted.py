"""A deleted file reaches the model as one line: what it defined, and where the pull request
still uses those names."""

from __future__ import annotations

from reviewers.config import ReviewConfig
from reviewers.deleted import deleted_files
from reviewers.engine import PullRequestContext, review
from tests.reviewers.helpers import ScriptedProvider, file_diff

REMOVED = file_diff(
    "src/legacy_auth.py",
    "@@ -1,9 +0,0 @@\n"
    "-import hashlib\n"
    "-TOKEN_TTL = 300\n"
    "-\n"
    "-def check_password(user, password):\n"
    "-    def helper(x):\n"
    "-        return x\n"
    "-    return hashlib.sha256(password).hexdigest() == user.digest\n"
    "-class LegacySession:\n"
    "-    pass",
    status="removed",
)
CALLER = file_diff(
    "src/views.py",
    "@@ -10,3 +10,4 @@ def login(request):\n"
    "     user = find(request)\n"
    "+    audit(user)\n"
    "     ok = check_password(user, request.password)\n"
    "     return ok",
)


def test_the_line_names_definitions_and_remaining_references() -> None:
    (summary,) = deleted_files([REMOVED], [CALLER])
    assert summary.names == ("legacy_auth", "TOKEN_TTL", "check_password", "LegacySession")
    assert summary.references == (("src/views.py", 12, "check_password"),)
    assert summary.line() == (
        "DELETED: src/legacy_auth.py (defined: legacy_auth, TOKEN_TTL, check_password, "
        "LegacySession); still referenced in this pull request at: "
        "src/views.py:12 `check_password`"
    )


async def test_the_model_sees_the_line_and_not_the_deleted_code() -> None:
    provider = ScriptedProvider(answers=[{"findings": []}])
    result = await review(
        [REMOVED, CALLER], config=ReviewConfig(), provider=provider,
        pr=PullRequestContext(), max_model_calls=2,
    )  # fmt: skip
    (request,) = provider.requests
    assert "DELETED: src/legacy_auth.py (defined: legacy_auth, TOKEN_TTL, check_password" in (
        request.prompt
    )
    assert "src/views.py:12 `check_password`" in request.prompt
    assert "hashlib.sha256(password)" not in request.prompt
    assert result.not_reviewed == []  # the deleted file was shown, as one line


async def test_without_a_model_a_deleted_file_is_named_as_before() -> None:
    result = await review(
        [REMOVED, CALLER], config=ReviewConfig(), provider=None,
        pr=PullRequestContext(), max_model_calls=0,
    )  # fmt: skip
    assert ("src/legacy_auth.py", "file deleted") in result.not_reviewed
