"""GitHub's JSON shapes for repository contents, commits and comparisons."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

from sandbox.github.git import Comparison
from sandbox.github.records import Commit, Repository
from sandbox.github.shapes import diff_entry, iso, user
from sandbox.github.state import GitHubState

# The contents API returns a file's content inline up to this size.
INLINE_CONTENT_LIMIT = 1024 * 1024


def _encode(data: bytes) -> str:
    """Base64 as the contents API sends it: wrapped every 60 characters, newline-ended."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


def _content_links(
    state: GitHubState, api: str, repo: Repository, ref: str, path: str, sha: str, kind: str
) -> dict[str, Any]:
    full = repo.full_name
    quoted = quote(path)
    url = f"{api}/repos/{full}/contents/{quoted}?ref={quote(ref, safe='')}"
    git_url = f"{api}/repos/{full}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html_url = f"{state.html_url}/{full}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quoted}"
    return {
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": (None if kind == "dir" else f"{state.html_url}/{full}/raw/{ref}/{quoted}"),
        "_links": {"self": url, "git": git_url, "html": html_url},
    }


def content_file(
    state: GitHubState,
    api: str,
    repo: Repository,
    ref: str,
    path: str,
    data: bytes,
    sha: str,
    *,
    inline: bool = True,
) -> dict[str, Any]:
    """A file as `GET /contents/{path}` returns it; `inline=False` is the object media
    type's answer for a file above 1 MB (empty content, encoding "none")."""
    return {
        "type": "file",
        "encoding": "base64" if inline else "none",
        "size": len(data),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": _encode(data) if inline else "",
        "sha": sha,
        **_content_links(state, api, repo, ref, path, sha, "file"),
    }


def content_item(
    state: GitHubState, api: str, repo: Repository, ref: str, path: str, size: int, sha: str
) -> dict[str, Any]:
    """One entry of a directory listing; `size` -1 marks a directory."""
    kind = "dir" if size < 0 else "file"
    return {
        "type": kind,
        "size": max(size, 0),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        **_content_links(state, api, repo, ref, path, sha, kind),
    }


def tree_sha(paths: list[str]) -> str:
    return hashlib.sha1("\0".join(sorted(paths)).encode()).hexdigest()  # noqa: S324


def commit(
    state: GitHubState,
    api: str,
    repo: Repository,
    record: Commit,
    tree: list[str] | None = None,
) -> dict[str, Any]:
    full = repo.full_name
    url = f"{api}/repos/{full}/commits/{record.sha}"
    person = {"name": record.author_name, "email": record.author_email, "date": iso(record.date)}
    tree_id = tree_sha(tree or [record.sha])
    author = None if record.author_login is None else user(state, api, record.author_login)
    return {
        "url": url,
        "sha": record.sha,
        "node_id": base64.b64encode(f"06:Commit{repo.id}:{record.sha}".encode()).decode(),
        "html_url": f"{state.html_url}/{full}/commit/{record.sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{api}/repos/{full}/git/commits/{record.sha}",
            "author": person,
            "committer": person,
            "message": record.message,
            "tree": {"sha": tree_id, "url": f"{api}/repos/{full}/git/trees/{tree_id}"},
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": author,
        "committer": author,
        "parents": [
            {
                "sha": record.parent,
                "url": f"{api}/repos/{full}/commits/{record.parent}",
                "html_url": f"{state.html_url}/{full}/commit/{record.parent}",
            }
        ]
        if record.parent
        else [],
    }


def comparison(
    state: GitHubState,
    api: str,
    repo: Repository,
    basehead: str,
    result: Comparison,
    commits: list[Commit],
    files: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    full = repo.full_name
    html = f"{state.html_url}/{full}/compare/{basehead}"
    permalink = f"{state.html_url}/{full}/compare/{repo.owner}:{result.base.sha[:7]}..."
    shape: dict[str, Any] = {
        "url": f"{api}/repos/{full}/compare/{basehead}",
        "html_url": html,
        "permalink_url": f"{permalink}{repo.owner}:{result.head.sha[:7]}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": commit(state, api, repo, result.base),
        "merge_base_commit": commit(state, api, repo, result.merge_base),
        "status": result.status,
        "ahead_by": len(result.ahead),
        "behind_by": len(result.behind),
        "total_commits": len(result.ahead),
        "commits": [commit(state, api, repo, c) for c in commits],
    }
    if files is not None:
        shape["files"] = [diff_entry(state, api, repo, result.head.sha, f) for f in files]
    return shape
