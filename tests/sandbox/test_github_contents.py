"""Repository contents, comparisons and a pull request's commits against the fake with
githubkit: files at a ref, the raw media type, and what changed between two commits."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit.exception import RequestFailed

from sandbox.github import GitHubState
from tests.sandbox.helpers import (
    BASE,
    HEAD,
    OWNER,
    PR,
    REPO,
    as_installation,
    client,
    refusal,
    serve,
    world,
)

CONFIG = "review:\n  minimum_severity: high\n"
CALC = "def add(a, b):\n    return a + b\n"


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()  # noqa: S324


@pytest.fixture
def state() -> GitHubState:
    return world()


@pytest.fixture
async def url(state: GitHubState) -> AsyncIterator[str]:
    async for served in serve(state):
        yield served


@pytest.fixture
def github(state: GitHubState, url: str) -> Any:
    return as_installation(client(state, url))


async def test_a_file_is_read_at_a_branch_or_a_commit(state: GitHubState, github: Any) -> None:
    # The base branch of the pull request points at its base commit.
    state.set_file(OWNER, REPO, "main", ".sentinel.yml", CONFIG)
    state.set_file(OWNER, REPO, HEAD, ".sentinel.yml", "review:\n  enabled: false\n")
    get = github.rest.repos.async_get_content

    on_branch = (await get(OWNER, REPO, ".sentinel.yml", ref="main")).parsed_data
    at_base = (await get(OWNER, REPO, ".sentinel.yml", ref=BASE)).parsed_data
    by_default = (await get(OWNER, REPO, ".sentinel.yml")).parsed_data
    at_head = (await get(OWNER, REPO, ".sentinel.yml", ref=HEAD[:7])).parsed_data

    assert (on_branch.type, on_branch.encoding, on_branch.size) == ("file", "base64", len(CONFIG))
    assert base64.b64decode(on_branch.content) == CONFIG.encode()
    assert (on_branch.sha, on_branch.path, on_branch.name) == (
        blob_sha(CONFIG),
        ".sentinel.yml",
        ".sentinel.yml",
    )
    assert at_base.sha == by_default.sha == on_branch.sha
    assert base64.b64decode(at_head.content) == b"review:\n  enabled: false\n"


async def test_missing_files_and_refs_are_404(state: GitHubState, github: Any) -> None:
    state.set_file(OWNER, REPO, "main", "src/app.py", "print('hi')\n")
    with pytest.raises(RequestFailed) as no_file:
        await github.rest.repos.async_get_content(OWNER, REPO, ".sentinel.yml", ref="main")
    with pytest.raises(RequestFailed) as no_ref:
        await github.rest.repos.async_get_content(OWNER, REPO, "src/app.py", ref="nope")

    assert refusal(no_file.value)[0] == 404
    assert refusal(no_ref.value) == (
        404,
        {
            "message": "No commit found for the ref nope",
            "documentation_url": "https://docs.github.com/rest/repos/contents#get-repository-content",
        },
    )


async def test_the_raw_media_type_returns_the_bytes(state: GitHubState, github: Any) -> None:
    state.set_file(OWNER, REPO, "main", "data/big.txt", "z" * (1024 * 1024 + 1))
    state.set_file(OWNER, REPO, "main", "data/small.txt", "héllo\n")
    get = github.rest.repos.async_get_content

    raw = await get(OWNER, REPO, "data/small.txt", headers={"Accept": "application/vnd.github.raw"})
    big = await get(
        OWNER, REPO, "data/big.txt", headers={"Accept": "application/vnd.github.raw+json"}
    )
    with pytest.raises(RequestFailed) as too_large:
        await get(OWNER, REPO, "data/big.txt")
    listing = (await get(OWNER, REPO, "data")).parsed_data

    assert raw.content == "héllo\n".encode()
    assert len(big.content) == 1024 * 1024 + 1
    status, body = refusal(too_large.value)
    assert (status, body["errors"][0]["code"]) == (403, "too_large")
    assert [(i.name, i.type, i.size) for i in listing] == [
        ("big.txt", "file", 1024 * 1024 + 1),
        ("small.txt", "file", 7),
    ]


async def test_pull_request_files_can_carry_their_full_text(
    state: GitHubState, github: Any
) -> None:
    state.set_file(OWNER, REPO, "main", "lib/calc.py", CALC)
    state.add_pull_request(
        OWNER,
        REPO,
        8,
        head_sha="e" * 40,
        base_sha="f" * 40,
        title="Subtract",
        body=None,
        user_login="bob",
        files=[
            {
                "filename": "lib/calc.py",
                "content": CALC + "\n\ndef sub(a, b):\n    return a - b\n",
            }
        ],
    )

    (file,) = (await github.rest.pulls.async_list_files(OWNER, REPO, 8)).parsed_data
    head = await github.rest.repos.async_get_content(OWNER, REPO, "lib/calc.py", ref="e" * 40)
    base = await github.rest.repos.async_get_content(OWNER, REPO, "lib/calc.py", ref="f" * 40)

    assert (file.status, file.additions, file.deletions) == ("modified", 4, 0)
    assert file.patch == (
        "@@ -1,2 +1,6 @@\n def add(a, b):\n     return a + b\n+\n+\n+def sub(a, b):\n"
        "+    return a - b"
    )
    assert "content" not in file.model_dump()
    assert base64.b64decode(head.parsed_data.content).decode().endswith("return a - b\n")
    assert (
        base64.b64decode(base.parsed_data.content).decode() == "def add(a, b):\n    return a + b\n"
    )


async def test_compare_lists_what_changed_between_two_pushes(
    state: GitHubState, github: Any
) -> None:
    second, third = "c" * 40, "d" * 40
    state.add_commit(
        OWNER,
        REPO,
        second,
        HEAD,
        files=[{"filename": "src/new.py", "status": "added", "patch": "@@ -0,0 +1 @@\n+x = 1"}],
        message="Add new.py",
        author_login="alice",
    )
    state.add_commit(
        OWNER,
        REPO,
        third,
        second,
        files=[{"filename": "src/new.py", "patch": "@@ -1 +1,2 @@\n x = 1\n+y = 2"}],
        message="Grow new.py",
    )
    state.update_pull_request(*PR, head_sha=third)
    compare = github.rest.repos.async_compare_commits

    incremental = (await compare(OWNER, REPO, f"{HEAD}...{third}")).parsed_data
    last_push = (await compare(OWNER, REPO, f"{second}...{third}")).parsed_data
    whole = (await compare(OWNER, REPO, f"main...{third}")).parsed_data
    backwards = (await compare(OWNER, REPO, f"{third}...{HEAD}")).parsed_data

    assert (incremental.status, incremental.ahead_by, incremental.behind_by) == ("ahead", 2, 0)
    assert [c.sha for c in incremental.commits] == [second, third]
    assert [c.commit.message for c in incremental.commits] == ["Add new.py", "Grow new.py"]
    assert incremental.files is not None
    (grown,) = incremental.files
    # Two commits touched the file and its texts are unknown: their patches, in order.
    assert (grown.filename, grown.status, grown.additions) == ("src/new.py", "added", 2)
    assert grown.patch == "@@ -0,0 +1 @@\n+x = 1\n@@ -1 +1,2 @@\n x = 1\n+y = 2"
    assert last_push.files is not None
    assert [(f.filename, f.patch) for f in last_push.files] == [
        ("src/new.py", "@@ -1 +1,2 @@\n x = 1\n+y = 2")
    ]
    assert whole.files is not None
    assert [f.filename for f in whole.files] == ["src/app.py", "README.md", "src/new.py"]
    assert (backwards.status, backwards.behind_by, backwards.files) == ("behind", 2, [])
    pull = (await github.rest.pulls.async_get(*PR)).parsed_data
    assert (pull.head.sha, pull.commits, pull.changed_files) == (third, 3, 3)


async def test_compare_diffs_full_texts_when_it_knows_them(state: GitHubState, github: Any) -> None:
    state.set_file(OWNER, REPO, HEAD, "notes.txt", "one\ntwo\nthree\n")
    state.add_commit(
        OWNER, REPO, "c" * 40, HEAD, [{"filename": "notes.txt", "content": "one\n2\nthree\n"}]
    )
    state.add_commit(
        OWNER, REPO, "d" * 40, "c" * 40, [{"filename": "notes.txt", "content": "1\n2\nthree\n"}]
    )

    compared = (
        await github.rest.repos.async_compare_commits(OWNER, REPO, f"{HEAD}...{'d' * 40}")
    ).parsed_data

    assert compared.files is not None
    (notes,) = compared.files
    assert (notes.status, notes.additions, notes.deletions) == ("modified", 2, 2)
    assert notes.patch == "@@ -1,3 +1,3 @@\n-one\n-two\n+1\n+2\n three"


async def test_compare_stops_at_300_files_and_unknown_refs_are_404(
    state: GitHubState, github: Any
) -> None:
    files = [
        {"filename": f"f{i:04}.py", "status": "added", "patch": "@@ -0,0 +1 @@\n+x"}
        for i in range(301)
    ]
    state.add_commit(OWNER, REPO, "c" * 40, HEAD, files, "Many files")
    compare = github.rest.repos.async_compare_commits

    compared = (await compare(OWNER, REPO, f"{HEAD}...{'c' * 40}")).parsed_data
    second_page = (await compare(OWNER, REPO, f"{HEAD}...{'c' * 40}", page=2)).parsed_data
    with pytest.raises(RequestFailed) as unknown:
        await compare(OWNER, REPO, f"{HEAD}...nope")

    assert compared.files is not None
    assert len(compared.files) == 300
    assert not second_page.files  # files come on the first page only
    assert refusal(unknown.value)[0] == 404


async def test_the_commits_of_a_pull_request_page_with_links(
    state: GitHubState, github: Any
) -> None:
    parent = HEAD
    for i in range(34):
        sha = f"{i:040x}"
        state.add_commit(OWNER, REPO, sha, parent, message=f"Step {i}", author_login="alice")
        parent = sha
    state.update_pull_request(*PR, head_sha=parent)

    first = await github.rest.pulls.async_list_commits(*PR)
    every = [
        c
        async for c in github.rest.paginate(
            github.rest.pulls.async_list_commits, owner=OWNER, repo=REPO, pull_number=7
        )
    ]

    assert 'rel="next"' in first.headers["link"]
    assert len(first.parsed_data) == 30
    assert len(every) == 35
    assert (every[0].sha, every[0].commit.message) == (HEAD, "Add widgets")
    assert every[-1].commit.message == "Step 33"
    assert every[-1].commit.author is not None
    assert every[-1].commit.author.name == "alice"
    assert every[-1].author is not None
    assert every[-1].author.login == "alice"
    assert [p.sha for p in every[-1].parents] == [f"{32:040x}"]
