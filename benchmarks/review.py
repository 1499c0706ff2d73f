"""The review pipeline (issue 4, section 11): overhead, concurrency and scale.

    ./scripts/bench review                                    all three
    python -m benchmarks.review overhead|concurrency|scale    some (Postgres as for tests)

The live parts share one world (benchmarks/review_world.py): a private database and Redis,
the real `sentinel api` process (the receiver) and the real `sentinel worker` process (arq,
as deployed: a process of its own, started once and warmed up), the GitHub and Anthropic
simulators served on loopback by this process, which timestamp every request they answer.
Every pull request is new (new number, new head) and has the same shape: 20 small modified
files (about 16 changed lines each, 3 with a `BUG:` marker the model fake reports), which the
reviewer sends as one chunk, so a review is one model call (checked before the concurrency
measurements).

1. Overhead. Webhook to review posted with zero-latency fakes.
   The clock starts just before the signed `pull_request.opened` delivery is POSTed to the
   receiver (a keep-alive client) and stops when the simulator answers the review POST (the
   review is then in `state.reviews_for(...)`): no polling. Each sample is a new pull request
   after a random 0-0.5 s pause so that samples do not fall into step with the worker's
   polling of the queue. The breakdown: the receiver's 2xx; the two queue hops on the
   database's clock (inbox row → delivery processed by `process_delivery`; → run `running` in
   `review_run`); the review job from its first GitHub call.
2. Concurrency: the same worker process, the model fake now taking 2 s per call. The ideal is
   N reviews in flight / 2 s: 25 reviews/s at N = 50, the goal ≥ 80% of it. Two figures:
   a. Steady state (the goal's figure: "reviews per second at 50 concurrent reviews"). A
      closed loop keeps exactly 50 reviews in flight: 50 pull requests are opened (a webhook
      each, through the receiver, so intake is part of every review as in production), and
      each time one's run reaches a final status another is opened at once (pull requests are
      arranged in the simulator ahead of time, so only the delivery is on that path; the
      figure shows the mean actually kept in flight). A review's clock
      starts just before its delivery is POSTed and stops when a poll of Postgres (every
      20 ms, one query for all 50) sees its run `completed` (so up to ~25 ms late). The
      first 50 are opened over 2 s: opened together they would finish together, and the
      loop would run in waves. Warm-up: at least 8 s and until the first 50 have all finished
      (at most 40 s, then the figure says so). Then a fixed 30 s window:
      reviews/s = runs seen `completed` within it / 30 s; their mean / p50 / p95 delivery →
      completed; the model calls in flight (mean over the window and peak, from the
      simulator's timestamps: 50 would be every review waiting on the model); the worker's
      CPU (from /proc) per review and as a share of one core; the whole machine's busy
      share; this process's own CPU (simulators, deliveries, polling), since it shares the
      cores. Opening stops at the window's end and the 50 still in flight are waited for
      (bounded), so they cannot disturb what follows.
   b. Burst (secondary: it adds the ramp-up of intake to the steady rate). 50 new pull
      requests delivered at once; wall time from the first delivery sent until a poll of
      Postgres (every 20 ms) sees all 50 runs `completed`; reviews/s = 50 / wall.
   Neither can hang: a run whose job died waits for the sweeper (every 30 s), so each wait
   has a deadline, past which the figure says "> N s (k done)".
3. Scale: see benchmarks/review_scale.py (a child process of its own, for its peak RSS).
"""

# ruff: noqa: T201 - printing figures is the point

from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import review_scale
from benchmarks.review_world import (
    FILES_PER_PR,
    Hit,
    ReviewWorld,
    bench_services,
    review_world,
)
from benchmarks.support import Figure, percentile, profiled

OVERHEAD_SAMPLES = 30
WARM_UP = 3
CONCURRENT = 50
MODEL_DELAY = 2.0
# A run whose job died waits for the sweeper (every 30 s); past this the figure says so.
CONCURRENCY_DEADLINE = 90
# The first CONCURRENT reviews are opened over this long, not at once: opened together they
# would finish together and the loop would run in waves instead of a steady state.
STEADY_RAMP = MODEL_DELAY
STEADY_WARM_UP = 8.0  # seconds at least, and until the first CONCURRENT reviews finished
STEADY_WARM_UP_LIMIT = 40.0  # past this the window starts anyway (and the figure says so)
STEADY_WINDOW = 30.0
POLL = 0.02
FINAL = ["completed", "failed", "skipped", "superseded", "cancelled"]  # TERMINAL_RUN_STATUSES
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
               f"{statistics.median(of('github_calls')):.0f}",
               f"GitHub ≤ 5 + ⌈{FILES_PER_PR}/100⌉ + ⌈findings/50⌉ = 7"),
        Figure(name, "  per PR: CPU of the worker process / of the simulators (ms)",
               f"{cpu_worker * MS:.0f} / {cpu_here * MS:.0f}"),
    ]  # fmt: skip


async def _concurrency(world: ReviewWorld) -> list[Figure]:
    world.models.delay_seconds = MODEL_DELAY
    # Warm the model path with the delay on (also checks one review is one model call).
    warm = await _one_review(world)
    if warm["model_calls"] != 1:
        raise RuntimeError(f"a review made {warm['model_calls']} model calls, expected 1")
    return await _steady(world) + await _burst(world)


@dataclass(frozen=True)
class _Finished:
    number: int
    delivered: float  # time.perf_counter() just before the delivery was POSTed
    seen: float  # time.perf_counter() of the poll that saw the run's final status
    status: str


@dataclass
class _ClosedLoop:
    """Keeps `size` reviews in flight: opens a pull request whenever a run reaches a final
    status (seen by one query every POLL seconds), until `stop_opening()`; then runs until the
    ones in flight are done. Pull requests are arranged ahead (`_arrange_ahead`), so a
    finished review is replaced by a delivery at once, not after building the next PR."""

    world: ReviewWorld
    size: int
    opening: bool = True
    in_flight: dict[int, float] = field(default_factory=dict)  # number → delivered
    finished: list[_Finished] = field(default_factory=list)
    first_cohort_done: asyncio.Event = field(default_factory=asyncio.Event)
    _first_cohort: set[int] = field(default_factory=set)
    _ready: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _began: float = 0.0
    _opened: int = 0
    _sends: set[asyncio.Task[None]] = field(default_factory=set)
    _errors: list[BaseException] = field(default_factory=list)

    async def drive(self) -> None:
        arranging = asyncio.create_task(self._arrange_ahead())
        self._began = time.perf_counter()
        try:
            self._top_up()
            while self.opening or self.in_flight:
                await asyncio.sleep(POLL)
                await self._poll()
                if self._errors:
                    raise self._errors[0]
                self._top_up()
        finally:
            arranging.cancel()
            for task in self._sends:
                task.cancel()

    def stop_opening(self) -> None:
        self.opening = False

    def first_cohort_left(self) -> int:
        return len(self._first_cohort)

    async def _arrange_ahead(self) -> None:
        """Keeps `size` pull requests arranged and not yet delivered, one at a time, yielding
        in between (the simulators share this event loop)."""
        while True:
            if len(self._ready) < self.size:
                self._ready.append(self.world.open_pull_request())
            await asyncio.sleep(0 if len(self._ready) < self.size else POLL)

    def _top_up(self) -> None:
        ramped = (time.perf_counter() - self._began) / STEADY_RAMP
        target = min(self.size, max(1, math.ceil(self.size * ramped)))
        while self.opening and len(self.in_flight) < target:
            number, payload = self._ready.pop(0) if self._ready else self.world.open_pull_request()
            if self._opened < self.size:
                self._first_cohort.add(number)
            self._opened += 1
            self.in_flight[number] = time.perf_counter()
            task = asyncio.create_task(self._deliver(number, payload))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _deliver(self, number: int, payload: dict[str, Any]) -> None:
        self.in_flight[number] = time.perf_counter()  # the POST starts now
        try:
            await self.world.send(payload)
        except Exception as error:  # re-raised by drive()
            self._errors.append(error)

    async def _poll(self) -> None:
        if not self.in_flight:
            return
        cursor = await self.world.owner.execute(
            # By (repository, number), as the runs index has them: this poll runs 50 times a
            # second on the same database as the system under test.
            "SELECT pull_request_number, status FROM runs"
            " WHERE repository_id IN (SELECT id FROM repositories)"
            " AND pull_request_number = ANY(%s) AND status = ANY(%s)",
            (list(self.in_flight), FINAL),
        )
        rows = await cursor.fetchall()
        seen = time.perf_counter()
        for number, status in rows:
            delivered = self.in_flight.pop(number, None)
            if delivered is None:
                continue
            self.finished.append(_Finished(number, delivered, seen, status))
            self._first_cohort.discard(number)
        if self._opened >= self.size and not self._first_cohort:
            self.first_cohort_done.set()


@asynccontextmanager
async def _profiling(pid: int, label: str) -> AsyncIterator[None]:
    """`profiled` with its blocking set-up and tear-down (py-spy attaching, writing) off the
    event loop, which serves the simulators and drives the loop meanwhile."""
    profile = profiled(pid, label)
    await asyncio.to_thread(profile.__enter__)
    try:
        yield
    finally:
        await asyncio.to_thread(profile.__exit__, None, None, None)


def _model_in_flight(hits: list[Hit], start: float, end: float) -> tuple[float, int]:
    """The model calls in flight over [start, end]: (mean, peak)."""
    overlapping = [h for h in hits if h.arrived < end and h.answered > start]
    busy = sum(min(h.answered, end) - max(h.arrived, start) for h in overlapping)
    edges = sorted(
        [(max(h.arrived, start), 1) for h in overlapping]
        + [(min(h.answered, end), -1) for h in overlapping]
    )  # at a tie the -1 sorts first: a call answered as another arrives is not an overlap
    in_flight = peak = 0
    for _, step in edges:
        in_flight += step
        peak = max(peak, in_flight)
    return busy / (end - start), peak


async def _steady(world: ReviewWorld) -> list[Figure]:
    loop = _ClosedLoop(world, CONCURRENT)
    calls_before = len(world.model_hits.hits)
    began = time.perf_counter()
    driver = asyncio.create_task(loop.drive())
    try:
        await asyncio.sleep(STEADY_WARM_UP)
        try:
            await asyncio.wait_for(
                loop.first_cohort_done.wait(), STEADY_WARM_UP_LIMIT - STEADY_WARM_UP
            )
            warm_up = f"{time.perf_counter() - began:.1f} s"
        except TimeoutError:
            done = CONCURRENT - loop.first_cohort_left()
            warm_up = f"> {STEADY_WARM_UP_LIMIT:.0f} s ({done} of the first {CONCURRENT} done)"
        if driver.done():
            driver.result()
        async with _profiling(world.worker_pid, "review-steady-worker"):
            cpu_worker, cpu_here = world.worker_cpu_seconds(), time.process_time()
            machine_before, others_before = _machine_busy(), _cpu_of_others()
            start = time.perf_counter()
            await asyncio.wait({driver}, timeout=STEADY_WINDOW)
            end = time.perf_counter()
            cpu_worker = world.worker_cpu_seconds() - cpu_worker
            cpu_here = time.process_time() - cpu_here
            machine = _busy_share(machine_before, _machine_busy())
            others = {k: v - others_before[k] for k, v in _cpu_of_others().items()}
            loop.stop_opening()
        if driver.done():
            driver.result()
        # The ones still in flight finish (no figure depends on them but the model calls
        # in flight at the window's end, answered by now); bounded like the burst.
        drained_from = time.perf_counter()
        left = len(loop.in_flight)
        await asyncio.wait({driver}, timeout=CONCURRENCY_DEADLINE)
        drain = time.perf_counter() - drained_from
        if driver.done():
            driver.result()
    finally:
        if not driver.done():
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
    if loop.in_flight:
        drained = f"> {drain:.0f} s ({len(loop.in_flight)} of {left} still running)"
    else:
        drained = f"{drain:.1f} s"
    window = end - start
    measured = [f for f in loop.finished if start <= f.seen < end]
    completed = [f.seen - f.delivered for f in measured if f.status == "completed"]
    other = len(measured) - len(completed)
    rate = len(completed) / window
    ideal = CONCURRENT / MODEL_DELAY
    mean_calls, peak_calls = _model_in_flight(world.model_hits.hits[calls_before:], start, end)

    def seconds(values: list[float]) -> str:
        if not values:
            return "- (none completed)"
        return (
            f"{statistics.fmean(values):.2f} / {statistics.median(values):.2f} / "
            f"{percentile(values, 0.95):.2f}"
        )

    per_review = f"{cpu_worker / len(completed) * MS:.0f}" if completed else "-"
    stages = _stages(world, [f for f in measured if f.status == "completed"])
    # Reviews in flight over the window (time-weighted), delivered → seen finished: how well
    # the loop kept CONCURRENT going (the gap between a finish and the next delivery counts).
    spans = [(f.delivered, f.seen) for f in loop.finished] + [
        (delivered, end) for delivered in loop.in_flight.values()
    ]
    kept = sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans) / (end - start)
    hops = await _queue_hops(world, [f.number for f in measured if f.status == "completed"])
    name = "review steady state"
    return [
        Figure(name, f"{CONCURRENT} reviews kept in flight, model {MODEL_DELAY:.0f} s/call: "
               f"reviews/s over {window:.0f} s (one worker process)", f"{rate:.1f}"),
        Figure(name, f"% of ideal ({ideal:.0f}/s: {CONCURRENT} in flight / "
               f"{MODEL_DELAY:.0f} s)", f"{rate / ideal * 100:.0f}%", "≥ 80%"),
        Figure(name, "  reviews in flight over the window, mean (delivery sent → seen "
               "finished)", f"{kept:.1f}"),
        Figure(name, f"  delivery → run completed, mean / p50 / p95 (s, {len(completed)} "
               "reviews of the window)", seconds(completed)),
        Figure(name, "  where that time goes, mean (s): delivery → the job reads the PR / → "
               "review posted (the model's 2 s) / → summary posted / → seen completed", stages),
        Figure(name, "  of the first: inbox row → delivery processed / → run running "
               "(the two queue hops, on the database's clock, mean s)", hops),
        Figure(name, f"  model calls in flight, mean / peak (of {CONCURRENT})",
               f"{mean_calls:.1f} / {peak_calls}"),
        Figure(name, "  worker CPU per review (ms) / % of one core over the window",
               f"{per_review} / {cpu_worker / window * 100:.0f}%"),
        Figure(name, f"  whole machine busy over the window (all processes, {os.cpu_count()} "
               "cores)", f"{machine * 100:.0f}%"),
        Figure(name, "  this process (simulators, deliveries, polling): % of one core",
               f"{cpu_here / window * 100:.0f}%"),
        Figure(name, "  CPU per review (ms): worker / simulators / " + " / ".join(others),
               " / ".join(f"{v / len(completed) * MS:.0f}" if completed else "-"
                          for v in (cpu_worker, cpu_here, *others.values()))),
        Figure(name, "  runs of the window ended other than completed", f"{other}"),
        Figure(name, "  warm-up / the last in flight drained in", f"{warm_up} / {drained}"),
    ]  # fmt: skip


async def _queue_hops(world: ReviewWorld, numbers: list[int]) -> str:
    cursor = await world.owner.execute(
        "SELECT avg(extract(epoch FROM d.processed_at - d.received_at)),"
        " avg(extract(epoch FROM r.started_at - d.processed_at))"
        " FROM runs r JOIN webhook_deliveries d"
        " ON (d.payload -> 'pull_request' ->> 'number')::int = r.pull_request_number"
        " WHERE r.pull_request_number = ANY(%s)",
        (numbers,),
    )
    row = await cursor.fetchone()
    if row is None or row[0] is None:
        return "-"
    return f"{float(row[0]):.2f} / {float(row[1]):.2f}"


def _stages(world: ReviewWorld, finished: list[_Finished]) -> str:
    """A review's time split at the simulators' timestamps: its first read of the pull
    request (intake, the two queue hops, the claim, the check run started), the review posted
    (the model call is in there), the summary posted (the last GitHub write), and the poll
    that saw it completed (the final transaction, and up to one poll interval)."""
    first: dict[str, float] = {}
    answered: dict[tuple[str, str], float] = {}
    for hit in world.github_hits.hits:
        first.setdefault(hit.path, hit.arrived)
        if hit.method == "POST" and 200 <= hit.status < 300:
            answered[(hit.method, hit.path)] = hit.answered
    splits: list[list[float]] = []
    for review in finished:
        read = first.get(world.pull_path(review.number))
        posted = answered.get(("POST", world.review_path(review.number)))
        summarised = answered.get(("POST", world.summary_path(review.number)))
        if read is None or posted is None or summarised is None:
            continue
        marks = [review.delivered, read, posted, summarised, review.seen]
        splits.append([later - earlier for earlier, later in itertools.pairwise(marks)])
    if not splits:
        return "-"
    return " / ".join(f"{statistics.fmean(column):.2f}" for column in zip(*splits, strict=True))


async def _burst(world: ReviewWorld) -> list[Figure]:
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
    _, peak = _model_in_flight(model, started, time.perf_counter())
    first_call = min((h.arrived for h in model), default=started) - started
    ideal = CONCURRENT / MODEL_DELAY
    rate = completed / wall
    name = "review burst"
    measured = f"{wall:.2f}" if elapsed is not None else f"> {wall:.0f} ({completed} done)"
    return [
        Figure(name, f"{CONCURRENT} reviews delivered at once, model {MODEL_DELAY:.0f} s/call: "
               "wall to the last completed (s)", measured),
        Figure(name, "reviews/s (one worker process)", f"{rate:.1f}"),
        Figure(name, f"% of ideal ({ideal:.0f}/s; secondary, includes the ramp-up)",
               f"{rate / ideal * 100:.0f}%"),
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


_OTHER_PROCESSES = {"receiver": "sentinel api", "Postgres": "postgres", "Redis": "redis-server"}


def _cpu_of_others() -> dict[str, float]:
    """CPU seconds used so far by the other processes of the benchmark, by kind (from /proc;
    Postgres counts every backend of the server)."""
    used = dict.fromkeys(_OTHER_PROCESSES, 0.0)
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        for kind, marker in _OTHER_PROCESSES.items():
            if marker in command:
                used[kind] += (int(fields[11]) + int(fields[12])) / ticks
                break
    return used


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
            " AND repository_id IN (SELECT id FROM repositories)"
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
