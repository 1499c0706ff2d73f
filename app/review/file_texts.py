"""The new text of a pull request's changed files, so the prompt can show the whole definition
each hunk sits in (reviewers/scope.py).

One GitHub GraphQL request reads up to `BATCH` blobs by the object id the files API gives each
file (`sha`: the blob at the head), so a review spends ⌈files / 100⌉ calls on this, not one per
file. Bounded: at most `MAX_FILES` files (the largest changes first), none over
`MAX_FILE_BYTES`, `MAX_TOTAL_BYTES` in all; binary and truncated blobs are skipped. Blobs are
content-addressed, so each worker keeps the texts it read in memory by (workspace, blob id),
up to `CACHE_BYTES`: the next push of the same pull request reads only what changed. Not in
Redis: pull request code may hold secrets, and the queue is no place for them.

This is context, never a reason to fail a review: if GitHub cannot answer, the review goes on
with git's hunk headers (the job's other GitHub calls would meet the same outage anyway).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import structlog

from reviewers.context import language_of
from reviewers.diff import FileDiff
from reviewers.scope import parsed_language

log = structlog.get_logger(__name__)

BATCH = 100
MAX_FILES = 300
MAX_FILE_BYTES = 512_000
MAX_TOTAL_BYTES = 8_000_000
CACHE_BYTES = 64_000_000

_BLOB_FIELDS = "... on Blob { oid byteSize isBinary isTruncated text }"


class _TextCache:
    """Least recently used texts by (workspace, blob id), bounded in characters."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._items: OrderedDict[tuple[uuid.UUID, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[uuid.UUID, str]) -> str | None:
        with self._lock:
            text = self._items.get(key)
            if text is not None:
                self._items.move_to_end(key)
            return text

    def put(self, key: tuple[uuid.UUID, str], text: str) -> None:
        with self._lock:
            if key in self._items or len(text) > self._limit:
                return
            self._items[key] = text
            self._size += len(text)
            while self._size > self._limit:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)


CACHE = _TextCache(CACHE_BYTES)


def wanted(files: Sequence[FileDiff], entries: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Path → blob id of the files worth reading: changed with hunks, in a language the
    context code understands, the largest changes first, at most `MAX_FILES`."""
    blob_ids = {str(e.get("filename")): str(e.get("sha") or "") for e in entries}
    candidates = [
        f
        for f in files
        if f.status != "removed"
        and f.hunks
        and not f.is_binary
        and (parsed_language(f.path) or language_of(f.path))
        and len(blob_ids.get(f.path, "")) == 40
    ]
    candidates.sort(key=lambda f: -(f.additions + f.deletions))
    return {f.path: blob_ids[f.path] for f in candidates[:MAX_FILES]}


def _query(count: int) -> str:
    names = ", ".join(f"$o{i}: GitObjectID!" for i in range(count))
    objects = " ".join(f"f{i}: object(oid: $o{i}) {{ {_BLOB_FIELDS} }}" for i in range(count))
    return (
        f"query($owner: String!, $name: String!, {names}) "
        f"{{ repository(owner: $owner, name: $name) {{ {objects} }} }}"
    )


async def fetch_new_texts(
    github: Any,
    workspace_id: uuid.UUID,
    repository: str,
    files: Sequence[FileDiff],
    entries: Sequence[dict[str, Any]],
) -> dict[str, str]:
    """Path → new text of the files `wanted` picks, from the cache or GitHub."""
    owner, _, name = repository.partition("/")
    chosen = wanted(files, entries)
    texts: dict[str, str] = {}
    missing: list[tuple[str, str]] = []
    for path, blob_id in chosen.items():
        cached = CACHE.get((workspace_id, blob_id))
        if cached is not None:
            texts[path] = cached
        else:
            missing.append((path, blob_id))
    total = sum(len(text) for text in texts.values())
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"o{i}": blob_id for i, (_, blob_id) in enumerate(batch)})
        try:
            answer = await github.async_graphql(_query(len(batch)), variables)
        except Exception as error:  # context only: the review goes on without the texts
            log.warning("review.file_texts_unavailable", repository=repository,
                        reason=type(error).__name__)  # fmt: skip
            break
        found = (answer or {}).get("repository") or {}
        for index, (path, blob_id) in enumerate(batch):
            blob = found.get(f"f{index}")
            if not isinstance(blob, dict) or not _usable(blob):
                continue
            text = str(blob["text"])
            if total + len(text) > MAX_TOTAL_BYTES:
                return texts
            total += len(text)
            texts[path] = text
            CACHE.put((workspace_id, blob_id), text)
    return texts


def _usable(blob: dict[str, Any]) -> bool:
    return (
        not blob.get("isBinary")
        and not blob.get("isTruncated")
        and isinstance(blob.get("text"), str)
        and int(blob.get("byteSize") or 0) <= MAX_FILE_BYTES
    )
