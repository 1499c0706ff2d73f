"""The review pipeline (issue 4, section 11): overhead, concurrency and scale.

    ./scripts/bench review                                    all three
    python -m benchmarks.review overhead|concurrency|scale    some (Postgres as for tests)

The live parts share one world (benchmarks/review_world.py): a private database and Redis,
the real `sentinel api` process (the receiver) and the real `sentinel worker` process (arq,
as deployed: a process of its own, started once and warmed up), the GitHub and Anthropic
simulators served on loopback by this process, which timestamp every request they answer.

1. Overhead. Webhook to review posted for a 20-file pull request with zero-latency fakes.
   The clock starts just before the signed `pull_request.opened` delivery is POSTed to the
   receiver (a keep-alive client) and stops when the simulator answers the review POST (the
   review is then in `state.reviews_for(...)`): no polling. Each sample is a new pull request
   (new number, new head), after a random 0-0.5 s pause so that samples do not fall into step
   with the worker's polling of the queue. The breakdown: the receiver's 2xx; the two queue
   hops on the database's clock (inbox row → delivery processed by `process_delivery`; →
   run `running` in `review_run`); the review job from its first GitHub call.
2. Concurrency. The same worker process, the model fake now taking 2 s per call; 50 new pull
   requests (one model call each: 20 small files are one chunk, checked) delivered at once,
   so the wall time includes intake (receiver, `process_delivery`) as in production. Wall
   time from the first delivery sent to the 50th run `completed` in Postgres (polled every
   20 ms). Ideal: all 50 in parallel, 2 s for 50 = 25 reviews/s.
3. Scale: see benchmarks/review_scale.py (a child process of its own, for its peak RSS).
"""

# ruff: noqa: T201 - printing figures is the point

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

from benchmarks import review_scale
from benchmarks.review_world import FILES_PER_PR, ReviewWorld, bench_services, review_world
from benchmarks.support import Figure, percentile, profiled

OVERHEAD_SAMPLES = 30
WARM_UP = 3
CONCURRENT = 50
MODEL_DELAY = 2.0
# A run whose job died waits for the sweeper (every 30 s); past this the figure says so.
CONCURRENCY_DEADLINE = 90
MS = 1000


async def _one_review(world: ReviewWorld) -> dict[str, float]:
    """One pull request from delivery to review posted; the timeline in seconds from the
    delivery being sent."""
    number, payload = world.open_pull_request()
    review = world.github_hits.expect("POST", world.review_path(number))
    summary = world.github_hits.expect("POST", world.summary_path(number))
    started = time.perf_counter()
    delivery = await world.send(payload)
    posted = await asyncio.wait_for(review, timeout=60)
    summarised = await asyncio.wait_for(summary, timeout=60)
    github = world.github_hits.since(started)
    model = world.model_hits.since(started)
    # The two queue hops, on the database's clock: inbox row → processed (process_delivery
    # job) → run running (review_run job).
    cursor = await world.owner.execute(
        "SELECT extract(epoch FROM d.processed_at - d.received_at),"
        " extract(epoch FROM r.started_at - d.processed_at)"
        " FROM webhook_deliveries d, runs r"
        " WHERE d.delivery_id = %s AND r.pull_request_number = %s",
        (delivery.guid, number),
    )
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError(f"no run for pull request {number}")
    return {
        "ack": delivery.duration,
        "to_processed": float(row[0]),
        "to_running": float(row[1]),
        "job_start": github[0].arrived - started,
        "model_calls": len(model),
        "github_calls": sum(1 for hit in github if hit.arrived <= summarised.arrived),
        "review": posted.answered - started,
        "summary": summarised.answered - started,
    }


async def _overhead(world: ReviewWorld) -> list[Figure]:
    world.models.delay_seconds = 0
    for _ in range(WARM_UP):
        await _one_review(world)
    samples: list[dict[str, float]] = []
    cpu_worker, cpu_here = world.worker_cpu_seconds(), time.process_time()
    for _ in range(OVERHEAD_SAMPLES):
        await asyncio.sleep(random.uniform(0, 0.5))  # noqa: S311 - jitter, not cryptography
        samples.append(await _one_review(world))
    cpu_worker = (world.worker_cpu_seconds() - cpu_worker) / OVERHEAD_SAMPLES
    cpu_here = (time.process_time() - cpu_here) / OVERHEAD_SAMPLES

    def of(key: str) -> list[float]:
        return [sample[key] for sample in samples]

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * MS:.0f} / {percentile(values, 0.99) * MS:.0f}"

    name = "review overhead"
    return [
        Figure(name, f"webhook → review posted, p50 / p99 (ms, {OVERHEAD_SAMPLES} PRs of "
               f"{FILES_PER_PR} files)", ms(of("review")), "p50 ≤ 300"),
        Figure(name, "webhook → summary posted (last GitHub write), p50 / p99 (ms)",
               ms(of("summary"))),
        Figure(name, "  webhook → 202 from the receiver, p50 / p99 (ms)", ms(of("ack"))),
        Figure(name, "  inbox row → delivery processed (queue hop 1), p50 / p99 (ms)",
               ms(of("to_processed"))),
        Figure(name, "  delivery processed → run running (queue hop 2), p50 / p99 (ms)",
               ms(of("to_running"))),
        Figure(name, "  review job's first GitHub call → review posted, p50 / p99 (ms)",
               ms([s["review"] - s["job_start"] for s in samples])),
        Figure(name, "  per PR: model calls / GitHub calls (to the summary)",
               f"{statistics.median(of('model_calls')):.0f} / "
               f"{statistics.median(of('github_calls')):.0f}"),
        Figure(name, "  per PR: CPU of the worker process / of the simulators (ms)",
               f"{cpu_worker * MS:.0f} / {cpu_here * MS:.0f}"),
    ]  # fmt: skip


async def _concurrency(world: ReviewWorld) -> list[Figure]:
    world.models.delay_seconds = MODEL_DELAY
    # Warm the model path with the delay on (also checks one review is one model call).
    warm = await _one_review(world)
    if warm["model_calls"] != 1:
        raise RuntimeError(f"a review made {warm['model_calls']} model calls, expected 1")
    opened = [world.open_pull_request() for _ in range(CONCURRENT)]
    numbers = [number for number, _ in opened]
    calls_before = len(world.model_hits.hits)
    cpu_worker, machine_before = world.worker_cpu_seconds(), _machine_busy()
    with profiled(world.worker_pid, "review-concurrency-worker"):
        started = time.perf_counter()
        await asyncio.gather(*[world.send(payload) for _, payload in opened])
        delivered = time.perf_counter() - started
        completed, elapsed = await _wait_completed(world, numbers, started)
    wall = elapsed if elapsed is not None else time.perf_counter() - started
    cpu_worker = world.worker_cpu_seconds() - cpu_worker
    machine = _busy_share(machine_before, _machine_busy())
    model = world.model_hits.hits[calls_before:]
    # The most model calls in flight at once: how far the worker let the reviews overlap.
    edges = sorted([(h.arrived, 1) for h in model] + [(h.answered, -1) for h in model])
    in_flight = peak = 0
    for _, step in edges:
        in_flight += step
        peak = max(peak, in_flight)
    first_call = min((h.arrived for h in model), default=started) - started
    ideal = CONCURRENT / MODEL_DELAY
    rate = completed / wall
    name = "review concurrency"
    measured = f"{wall:.2f}" if elapsed is not None else f"> {wall:.0f} ({completed} done)"
    return [
        Figure(name, f"{CONCURRENT} reviews at once, model {MODEL_DELAY:.0f} s/call: wall (s)",
               measured),
        Figure(name, "reviews/s (one worker process)", f"{rate:.1f}"),
        Figure(name, f"% of ideal ({ideal:.0f}/s: all {CONCURRENT} in parallel)",
               f"{rate / ideal * 100:.0f}%", "≥ 80%"),
        Figure(name, "  model calls / most in flight at once", f"{len(model)} / {peak}"),
        Figure(name, "  all deliveries acknowledged / first model call, after (s)",
               f"{delivered:.2f} / {first_call:.2f}"),
        Figure(name, "  worker CPU: seconds / % of one core over the wall time",
               f"{cpu_worker:.1f} / {cpu_worker / wall * 100:.0f}%"),
        Figure(name, "  worker CPU per review (ms) → one-core ceiling (reviews/s)",
               f"{cpu_worker / CONCURRENT * MS:.0f} → {CONCURRENT / cpu_worker:.1f}"),
        Figure(name, f"  whole machine busy over the wall time (all processes, {os.cpu_count()} "
               "cores)", f"{machine * 100:.0f}%"),
    ]  # fmt: skip


def _machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


async def _wait_completed(
    world: ReviewWorld, numbers: list[int], started: float
) -> tuple[int, float | None]:
    """Poll every 20 ms until the runs of `numbers` are all completed: (how many completed,
    seconds from `started`, or None when CONCURRENCY_DEADLINE passed first)."""
    completed = 0
    while time.perf_counter() - started < CONCURRENCY_DEADLINE:
        completed = await world.scalar(
            "SELECT count(*) FROM runs WHERE status = 'completed'"
            " AND pull_request_number = ANY(%s)",
            numbers,
        )
        if completed >= len(numbers):
            return completed, time.perf_counter() - started
        await asyncio.sleep(0.02)
    return completed, None


async def _review_figures(parts: set[str], database_url: str, redis_url: str) -> list[Figure]:
    # The machine may be shared (other sessions' tests): say how busy it was.
    load = os.getloadavg()[0]
    figures = [Figure("review", "machine load average (1 min) at the start", f"{load:.2f}")]
    async with review_world(database_url, redis_url) as world:
        if "overhead" in parts:
            figures += await _overhead(world)
        if "concurrency" in parts:
            figures += await _concurrency(world)
    return figures


def run(parts: tuple[str, ...] = ("overhead", "concurrency", "scale")) -> list[Figure]:
    figures: list[Figure] = []
    live = {"overhead", "concurrency"}.intersection(parts)
    if live:
        with bench_services() as (database_url, redis_url):
            figures += asyncio.run(_review_figures(live, database_url, redis_url))
    if "scale" in parts:
        figures += review_scale.run()
    return figures


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or ("overhead", "concurrency", "scale")
    for figure in run(chosen):
        print(f"{figure.benchmark} | {figure.metric} | {figure.value} | {figure.goal}")
