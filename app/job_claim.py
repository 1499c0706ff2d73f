"""Claiming queued arq jobs in one Redis round trip, for `SentinelWorker.start_jobs`.

arq (0.28) claims each job id a poll finds with four sequential round trips (WATCH, EXISTS,
ZSCORE, then MULTI/SETEX/EXEC), one job after another, in the worker's poll loop. A review is
two jobs; under load every round trip waits behind the event loop's other work, and at
50 reviews in flight the two queue hops took 0.3-0.45 s each. This script makes the same
decision for every job id of a poll at once, atomically (Redis runs a script alone, which
is what WATCH/MULTI emulated): a job is claimed when no worker holds it (no in-progress
key), it is still queued, and it is due; claiming sets its in-progress key, as arq does.
"""

from __future__ import annotations

from typing import Any

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

# KEYS[1]: the queue (sorted set); KEYS[2..]: the jobs' in-progress keys.
# ARGV[1]: now (ms); ARGV[2]: the in-progress key's lifetime (ms); ARGV[3..]: the job ids.
# Returns the claimed job ids, each followed by its score.
_CLAIM_SCRIPT = """
local claimed = {}
for i = 2, #KEYS do
    local job_id = ARGV[i + 1]
    if redis.call('EXISTS', KEYS[i]) == 0 then
        local score = redis.call('ZSCORE', KEYS[1], job_id)
        if score and tonumber(score) <= tonumber(ARGV[1]) then
            redis.call('PSETEX', KEYS[i], ARGV[2], '1')
            claimed[#claimed + 1] = job_id
            claimed[#claimed + 1] = score
        end
    end
end
return claimed
"""


class JobClaimer:
    def __init__(self, redis: Redis, queue_name: str, in_progress_ms: int) -> None:
        self._script: Any = redis.register_script(_CLAIM_SCRIPT)
        self._queue_name = queue_name
        self._in_progress_ms = in_progress_ms

    async def claim(self, job_ids: list[str], now_ms: int) -> list[tuple[str, int]]:
        """The jobs of `job_ids` this worker now holds, with their scores (arq's `run_job`
        takes the score)."""
        if not job_ids:
            return []
        reply = await self._script(
            keys=[self._queue_name, *(in_progress_key_prefix + job_id for job_id in job_ids)],
            args=[now_ms, self._in_progress_ms, *job_ids],
        )
        values = [v.decode() if isinstance(v, bytes) else str(v) for v in reply]
        return [(values[i], int(float(values[i + 1]))) for i in range(0, len(values), 2)]
