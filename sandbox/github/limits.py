"""GitHub's budgets and the faults tests inject: the primary (hourly) rate limit of each
caller, and `fail_next`, which answers matching requests with an error before anything else."""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox.github.records import Fault, RateLimitBucket

# GitHub's REST budgets per hour: installations (non-Enterprise) and unauthenticated callers.
INSTALLATION_RATE_LIMIT = 5000
ANONYMOUS_RATE_LIMIT = 60


class LimitsMixin:
    """The part of `GitHubState` that answers for limits and faults."""

    rate_limits: dict[str, RateLimitBucket]
    faults: list[Fault]
    # Content-creating requests per caller, for the secondary limits.
    write_times: dict[str, list[datetime]]
    secondary_writes_per_minute: int
    secondary_writes_per_hour: int

    def now(self) -> datetime:
        raise NotImplementedError

    def rate_limit(self, key: str) -> RateLimitBucket:
        """The primary budget of a caller: "installation:<id>", "app" or "anonymous:<ip>".

        Tests may mutate the bucket (e.g. `used = limit`) to exhaust it."""
        now = int(self.now().timestamp())
        bucket = self.rate_limits.get(key)
        if bucket is None or bucket.reset_at <= now:
            limit = ANONYMOUS_RATE_LIMIT if key.startswith("anonymous") else INSTALLATION_RATE_LIMIT
            if bucket is not None:
                limit = bucket.limit
            bucket = RateLimitBucket(limit=limit, used=0, reset_at=now + 3600)
            self.rate_limits[key] = bucket
        return bucket

    def installation_rate_limit(self, installation_id: int) -> RateLimitBucket:
        return self.rate_limit(f"installation:{installation_id}")

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        count: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        method: str | None = None,
        rate_limit: str | None = None,
    ) -> None:
        """Answer the next `count` requests whose path starts with `path_prefix` (and whose
        method is `method`, if given) with `status`, before any other processing."""
        self.faults.append(
            Fault(
                path_prefix=path_prefix,
                status=status,
                remaining=count,
                headers={k.lower(): v for k, v in (headers or {}).items()},
                body=body,
                method=method.upper() if method else None,
                rate_limit=rate_limit,
            )
        )

    def fail_next_primary_rate_limit(
        self, path_prefix: str, count: int = 1, *, reset_in: int = 60, status: int = 403
    ) -> None:
        """GitHub's answer once the hourly budget is spent: remaining 0 and a reset time,
        no retry-after. The message names the caller, so it is written when answering."""
        reset = int(self.now().timestamp()) + reset_in
        self.fail_next(
            path_prefix,
            status,
            count,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            rate_limit="primary",
        )

    def fail_next_secondary_rate_limit(
        self,
        path_prefix: str,
        count: int = 1,
        *,
        retry_after: int | None = 60,
        status: int = 403,
    ) -> None:
        """`retry_after=None`: GitHub's other form, 403 or 429 with the message alone."""
        self.fail_next(
            path_prefix,
            status,
            count,
            headers={"retry-after": str(retry_after)} if retry_after is not None else {},
            rate_limit="secondary",
        )

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path_prefix) and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def allow_write(self, key: str) -> bool:
        """GitHub's limits on content creation, per caller: at most
        `secondary_writes_per_minute` writes a minute and `secondary_writes_per_hour` an
        hour. Records the write when it is allowed; a refused write does not count."""
        now = self.now()
        # Kept sorted, older than an hour dropped: a busy caller writes thousands an hour,
        # and scanning them all on every write made this the simulator's costliest line.
        times = self.write_times.setdefault(key, [])
        del times[: bisect_right(times, now - timedelta(hours=1))]
        last_minute = len(times) - bisect_right(times, now - timedelta(minutes=1))
        allowed = (
            last_minute < self.secondary_writes_per_minute
            and len(times) < self.secondary_writes_per_hour
        )
        if allowed:
            insort(times, now)
        return allowed
