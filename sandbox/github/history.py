"""Arranging what a repository holds: branches, commits, files at a ref, and pull requests
whose head and base are commits on one line (see `git.py` for the model and its limits).

A pull request always has a history the API can serve: its base commit (on its base branch)
and its head commit (on its head branch) exist, the head descending from the base. Unless a
test arranges the commits itself (`add_commit`, or `commits=` here), the head is one commit
whose changes are the pull request's files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sandbox.github import diffs
from sandbox.github.git import FULL_SHA, UNKNOWN, Comparison, RepoGit, blob_sha
from sandbox.github.records import Commit, PullRequest, Repository

FILE_STATUSES = {"added", "removed", "modified", "renamed", "copied", "changed", "unchanged"}
Text = str | bytes


class HistoryMixin:
    """The part of `GitHubState` that arranges repository contents and pull requests."""

    git: dict[tuple[str, str], RepoGit]
    pull_requests: dict[tuple[str, str, int], PullRequest]

    def now(self) -> datetime:
        raise NotImplementedError

    def next_id(self) -> int:
        raise NotImplementedError

    def _require_repository(self, owner: str, name: str) -> Repository:
        raise NotImplementedError

    # -- history -------------------------------------------------------------------------

    def git_for(self, repository: Repository) -> RepoGit:
        key = (repository.owner.lower(), repository.name.lower())
        return self.git.setdefault(key, RepoGit())

    def set_branch(self, owner: str, name: str, branch: str, sha: str) -> None:
        """Point `branch` at commit `sha` (an unknown SHA becomes a commit with no parent)."""
        git = self.git_for(self._require_repository(owner, name))
        self._ensure_commit(git, sha.lower())
        git.branches[branch] = sha.lower()

    def set_file(self, owner: str, name: str, ref: str, path: str, text: Text | None) -> None:
        """Make `path` hold `text` at `ref` (None deletes it). `ref` is a branch (created,
        on a new commit, when unknown) or a commit SHA (created when unknown). Later commits
        on the line see the file unless they change it."""
        repository = self._require_repository(owner, name)
        git = self.git_for(repository)
        sha = git.resolve(ref)
        if sha is None:
            if FULL_SHA.match(ref.lower()):
                sha = self._ensure_commit(git, ref.lower()).sha
            else:
                seed = f"{repository.full_name}:{ref}".encode()
                sha = hashlib.sha1(seed).hexdigest()  # noqa: S324 - a made-up commit id
                self._ensure_commit(git, sha)
                git.branches[ref] = sha
        git.commits[sha].contents[path.strip("/")] = _bytes(text)

    def add_commit(
        self,
        owner: str,
        name: str,
        sha: str,
        parent_sha: str | None = None,
        files: Sequence[Mapping[str, Any]] = (),
        message: str = "",
        *,
        author_login: str = "octocat",
        branch: str | None = None,
    ) -> Commit:
        """A commit whose changes against `parent_sha` are `files` (files-API entries; an
        entry may carry `content`, the full new text, from which a missing `patch` is
        computed and which the contents API then serves). `branch` moves there."""
        git = self.git_for(self._require_repository(owner, name))
        sha = sha.lower()
        if sha in git.commits and (git.commits[sha].files or git.commits[sha].parent):
            raise ValueError(f"commit {sha} exists")
        if parent_sha is not None:
            self._ensure_commit(git, parent_sha.lower())
        commit = self._ensure_commit(git, sha, parent_sha.lower() if parent_sha else None)
        commit.message = message
        commit.author_name = author_login
        commit.author_email = f"{author_login}@users.noreply.github.com"
        commit.author_login = author_login
        commit.files = [self._file_entry(git, parent_sha, f, commit) for f in files]
        if branch is not None:
            git.branches[branch] = sha
        return commit

    def compare(self, owner: str, name: str, base: str, head: str) -> Comparison | None:
        """`base...head` by ref or SHA (None if either is unknown or they share nothing)."""
        git = self.git_for(self._require_repository(owner, name))
        base_sha, head_sha = git.resolve(base), git.resolve(head)
        if base_sha is None or head_sha is None:
            return None
        return git.compare(base_sha, head_sha)

    def _ensure_commit(self, git: RepoGit, sha: str, parent: str | None = None) -> Commit:
        commit = git.commits.get(sha)
        if commit is None:
            commit = Commit(
                sha=sha,
                parent=parent,
                message="",
                author_name="octocat",
                author_email="octocat@users.noreply.github.com",
                author_login="octocat",
                date=self.now(),
            )
            git.commits[sha] = commit
        elif parent is not None:
            commit.parent = parent
        return commit

    def _file_entry(
        self, git: RepoGit, parent: str | None, file: Mapping[str, Any], commit: Commit
    ) -> dict[str, Any]:
        """A files-API entry; its `content`, if any, is written into `commit`."""
        entry = dict(file)
        if "filename" not in entry:
            raise ValueError(f"a file needs a filename: {file}")
        content = entry.pop("content", None)
        path = entry["filename"]
        if entry.get("status") == "removed":
            commit.contents[path] = None
        elif content is not None:
            data = _bytes(content) or b""
            previous = entry.get("previous_filename") or path
            before = git.read(parent, previous) if parent else UNKNOWN
            old = before if isinstance(before, bytes) else None
            if "status" not in entry:
                entry["status"] = "added" if old is None else "modified"
            if "patch" not in entry:
                entry["patch"] = diffs.make_patch(
                    None if old is None else old.decode("utf-8", "replace"),
                    data.decode("utf-8", "replace"),
                )
            entry.setdefault("sha", blob_sha(data))
            commit.contents[path] = data
        if entry.get("status") == "renamed" and entry.get("previous_filename"):
            commit.contents.setdefault(entry["previous_filename"], None)
        return normalise_file(entry)

    # -- pull requests -------------------------------------------------------------------

    def add_pull_request(
        self,
        owner: str,
        name: str,
        number: int,
        head_sha: str,
        base_sha: str,
        title: str,
        body: str | None,
        user_login: str,
        draft: bool = False,
        files: Sequence[Mapping[str, Any]] = (),
        *,
        head_ref: str = "feature",
        base_ref: str | None = None,
        commits: Sequence[Mapping[str, Any]] | None = None,
    ) -> PullRequest:
        """A pull request. `files` are its files-API entries; each may carry `content`,
        the file's full new text (served by the contents API at the head; a missing `patch`
        is computed from it against the base). `commits` (each `sha`, `message`, optional
        `files` against the previous one, `author_login`) arrange its history from the base;
        the last must be `head_sha`, and `files` default to their net changes."""
        repository = self._require_repository(owner, name)
        key = (repository.owner.lower(), repository.name.lower(), number)
        if key in self.pull_requests:
            raise ValueError(f"pull request {owner}/{name}#{number} exists")
        git = self.git_for(repository)
        head_sha, base_sha = head_sha.lower(), base_sha.lower()
        base_ref = base_ref or repository.default_branch
        self._place_base(git, base_ref, base_sha)
        if commits:
            if str(commits[-1]["sha"]).lower() != head_sha:
                raise ValueError("the last of `commits` must be the head commit")
            parent = base_sha
            for arranged in commits:
                self.add_commit(
                    owner,
                    name,
                    arranged["sha"],
                    parent,
                    arranged.get("files", ()),
                    arranged.get("message", ""),
                    author_login=arranged.get("author_login", user_login),
                )
                parent = str(arranged["sha"]).lower()
        entries = self._head_files(git, base_sha, head_sha, files, title, user_login)
        if not files and commits:
            entries = self._net_files(git, base_sha, head_sha)
        git.branches[head_ref] = head_sha
        now = self.now()
        pull = PullRequest(
            repository=repository,
            number=number,
            id=self.next_id(),
            head_sha=head_sha,
            base_sha=base_sha,
            head_ref=head_ref,
            base_ref=base_ref,
            title=title,
            body=body,
            user_login=user_login,
            draft=draft,
            files=entries,
            created_at=now,
            updated_at=now,
        )
        self.pull_requests[key] = pull
        return pull

    def update_pull_request(
        self, owner: str, name: str, number: int, **changes: Any
    ) -> PullRequest:
        """Change a pull request as a push or an edit would (head_sha, files, title, state...).

        A push to a `head_sha` the fake does not know becomes one commit on top of the old
        head whose changes are the entries of `files` that differ from the old list (their
        patches stay relative to the base: arrange the commit with `add_commit` for exact
        per-push patches). A push to a known commit without `files` recomputes the files."""
        pull = self.pull_request(owner, name, number)
        if pull is None:
            raise KeyError(f"{owner}/{name}#{number}")
        git = self.git_for(pull.repository)
        for attribute in changes:
            if not hasattr(pull, attribute):
                raise AttributeError(f"pull requests have no {attribute}")
        if "base_sha" in changes:
            pull.base_sha = str(changes.pop("base_sha")).lower()
            self._place_base(git, changes.get("base_ref", pull.base_ref), pull.base_sha)
        new_head = str(changes.pop("head_sha", pull.head_sha)).lower()
        files = changes.pop("files", None)
        if new_head != pull.head_sha and new_head not in git.commits:
            old = {(f["filename"], f.get("patch"), f["status"]) for f in pull.files}
            delta = [
                f
                for f in files or ()
                if (f["filename"], f.get("patch"), f.get("status", "modified")) not in old
                or "content" in f
            ]
            self.add_commit(
                owner, name, new_head, pull.head_sha, delta, "Push", author_login=pull.user_login
            )
        if files is not None:
            pull.files = [
                self._file_entry(git, pull.base_sha, f, git.commits[new_head]) for f in files
            ]
        elif new_head != pull.head_sha:
            pull.files = self._net_files(git, pull.base_sha, new_head) or pull.files
        if new_head != pull.head_sha:
            pull.head_sha = new_head
            git.branches[changes.get("head_ref", pull.head_ref)] = new_head
        for attribute, value in changes.items():
            setattr(pull, attribute, value)
        pull.updated_at = self.now()
        return pull

    def pull_request(self, owner: str, name: str, number: int) -> PullRequest | None:
        return self.pull_requests.get((owner.lower(), name.lower(), number))

    def pull_commits(self, pull: PullRequest) -> list[Commit]:
        """The pull request's commits, oldest first."""
        git = self.git_for(pull.repository)
        comparison = git.compare(pull.base_sha, pull.head_sha)
        if comparison is not None and comparison.ahead:
            return comparison.ahead
        return [git.commits[pull.head_sha]] if pull.head_sha in git.commits else []

    def _place_base(self, git: RepoGit, base_ref: str, base_sha: str) -> None:
        """Make the base commit exist on the base branch: an unknown base SHA is the new tip
        of an existing branch (so files set on the branch are seen there), or a root."""
        tip = git.branches.get(base_ref)
        if base_sha not in git.commits:
            self._ensure_commit(git, base_sha, tip)
            git.branches[base_ref] = base_sha
        elif tip is None:
            git.branches[base_ref] = base_sha

    def _head_files(
        self,
        git: RepoGit,
        base_sha: str,
        head_sha: str,
        files: Sequence[Mapping[str, Any]],
        message: str,
        author: str,
    ) -> list[dict[str, Any]]:
        if head_sha in git.commits:
            head = git.commits[head_sha]
            return [self._file_entry(git, base_sha, f, head) for f in files]
        head = self._ensure_commit(git, head_sha, base_sha)
        head.message, head.author_login = message, author
        head.author_name, head.author_email = author, f"{author}@users.noreply.github.com"
        head.files = [self._file_entry(git, base_sha, f, head) for f in files]
        return [dict(f) for f in head.files]

    def _net_files(self, git: RepoGit, base_sha: str, head_sha: str) -> list[dict[str, Any]]:
        comparison = git.compare(base_sha, head_sha)
        return [] if comparison is None else comparison.files


def normalise_file(file: Mapping[str, Any]) -> dict[str, Any]:
    """Check a files-API entry against GitHub's shape and fill in what GitHub computes."""
    entry = dict(file)
    if "filename" not in entry:
        raise ValueError(f"a pull request file needs a filename: {file}")
    status = entry.setdefault("status", "modified")
    if status not in FILE_STATUSES:
        raise ValueError(f"file status must be one of {sorted(FILE_STATUSES)}, not {status}")
    if status == "renamed" and "previous_filename" not in entry:
        raise ValueError(f"a renamed file needs previous_filename: {file}")
    additions, deletions = diffs.counts(entry.get("patch"))
    entry.setdefault("additions", additions)
    entry.setdefault("deletions", deletions)
    entry.setdefault("changes", entry["additions"] + entry["deletions"])
    if "sha" not in entry:
        seed = f"{entry['filename']}\0{entry.get('patch', '')}".encode()
        entry["sha"] = hashlib.sha1(seed).hexdigest()  # noqa: S324 - a blob id, not security
    return entry


def _bytes(text: Text | None) -> bytes | None:
    return text.encode() if isinstance(text, str) else text
