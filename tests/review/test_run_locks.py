"""Run locks against the real Postgres: one executor per run across processes (each RunLocks
plays a process) and within one, every lock of a process on one connection, and what a
broken lock connection does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.review.lock import RunLocks, lock_key
from app.sweeper import sweep
from app.worker import create_worker
from tests.review.conftest import World

ADVISORY = (
    "FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.fixture
async def make_locks(engine: AsyncEngine) -> AsyncIterator[Callable[[], RunLocks]]:
    made: list[RunLocks] = []

    def make() -> RunLocks:
        made.append(RunLocks(engine))
        return made[-1]

    yield make
    for locks in made:
        await locks.close()


async def _holder_pid(owner_engine: AsyncEngine, run_id: uuid.UUID) -> int | None:
    """The backend holding the run's lock, if any."""
    key = lock_key(run_id)
    async with owner_engine.connect() as connection:
        return (
            await connection.execute(
                text(
                    f"SELECT pid {ADVISORY} AND objsubid = 1 "
                    "AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
            )
        ).scalar_one_or_none()


async def _advisory_locks(owner_engine: AsyncEngine) -> tuple[int, int]:
    """(locks, distinct backends holding them) in the test database."""
    async with owner_engine.connect() as connection:
        row = (
            await connection.execute(text(f"SELECT count(*), count(DISTINCT pid) {ADVISORY}"))
        ).one()
        return int(row[0]), int(row[1])


async def _eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


async def _terminate(owner_engine: AsyncEngine, run_id: uuid.UUID) -> None:
    """Kill the backend holding the run's lock (what a Postgres restart does to it)."""
    pid = await _holder_pid(owner_engine, run_id)
    assert pid is not None
    async with owner_engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    async def gone() -> bool:
        return await _holder_pid(owner_engine, run_id) is None

    await _eventually(gone)


async def test_a_run_held_by_one_process_is_not_held_by_another(
    make_locks: Callable[[], RunLocks],
) -> None:
    first, second = make_locks(), make_locks()
    run = uuid.uuid4()
    async with first.hold(run) as held:
        assert held
        async with second.hold(run) as also:
            assert not also
    async with second.hold(run) as held_now:
        assert held_now


async def test_a_process_does_not_hold_a_run_twice(
    make_locks: Callable[[], RunLocks], owner_engine: AsyncEngine
) -> None:
    locks, other = make_locks(), make_locks()
    run = uuid.uuid4()
    async with locks.hold(run) as held:
        assert held
        # The advisory lock alone would say yes (re-entrant in its session): the set says no.
        async with locks.hold(run) as again:
            assert not again
        # The refused second hold released nothing.
        assert await _holder_pid(owner_engine, run) is not None
        async with other.hold(run) as elsewhere:
            assert not elsewhere
    assert await _holder_pid(owner_engine, run) is None
    async with locks.hold(run) as held_again:
        assert held_again
    assert await _advisory_locks(owner_engine) == (0, 0)


async def test_sixty_runs_of_a_process_share_one_connection(
    make_locks: Callable[[], RunLocks], engine: AsyncEngine, owner_engine: AsyncEngine
) -> None:
    locks = make_locks()
    runs = [uuid.uuid4() for _ in range(60)]
    finish = asyncio.Event()
    inside: list[uuid.UUID] = []

    async def review(run: uuid.UUID) -> None:
        async with locks.hold(run) as held:
            assert held
            inside.append(run)
            await finish.wait()

    # 60 at once, on an engine whose pool has 10 connections in all.
    tasks = [asyncio.create_task(review(run)) for run in runs]

    async def all_inside() -> bool:
        return len(inside) == len(runs)

    try:
        await _eventually(all_inside)
        assert await _advisory_locks(owner_engine) == (60, 1)
        # The lock connection is not the pool's: none of it is taken.
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        finish.set()
        await asyncio.gather(*tasks)
    assert await _advisory_locks(owner_engine) == (0, 0)


async def test_a_dropped_lock_connection_frees_its_runs_and_release_does_not_raise(
    make_locks: Callable[[], RunLocks], owner_engine: AsyncEngine
) -> None:
    holder, other = make_locks(), make_locks()
    run, later = uuid.uuid4(), uuid.uuid4()
    async with holder.hold(run) as held:
        assert held
        await _terminate(owner_engine, run)
        # Its locks went with the connection: another process takes the run over at once.
        async with other.hold(run) as taken:
            assert taken
        # This process still executes the run: no second executor of it starts here.
        async with holder.hold(run) as again:
            assert not again
    # Releasing on the dead connection did not raise; the next use reconnects.
    async with holder.hold(later) as held_later:
        assert held_later
        assert await _holder_pid(owner_engine, later) is not None
    async with holder.hold(run) as held_run:
        assert held_run
    assert await _advisory_locks(owner_engine) == (0, 0)


async def test_a_reconnect_takes_back_the_locks_of_the_runs_still_running(
    make_locks: Callable[[], RunLocks], owner_engine: AsyncEngine
) -> None:
    holder, other = make_locks(), make_locks()
    running, lost, new = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with holder.hold(running) as held, holder.hold(lost) as held_lost:
        assert held
        assert held_lost
        await _terminate(owner_engine, running)
        async with other.hold(lost) as taken_over:
            assert taken_over
            # The first use after the break reconnects and takes back what it can.
            async with holder.hold(new) as held_new:
                assert held_new
                pid = await _holder_pid(owner_engine, new)
                assert await _holder_pid(owner_engine, running) == pid
                assert await _holder_pid(owner_engine, lost) != pid
                async with other.hold(running) as stolen:
                    assert not stolen
    # The run another process took over was not unlocked by this one on release.
    assert await _advisory_locks(owner_engine) == (0, 0)
    async with other.hold(lost) as free:
        assert free


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 5, 8])
async def test_a_hold_cancelled_while_locking_leaves_no_lock_behind(
    make_locks: Callable[[], RunLocks], owner_engine: AsyncEngine, steps: int
) -> None:
    locks, probe = make_locks(), make_locks()
    async with locks.hold(uuid.uuid4()):
        pass  # the connection is open
    witness = uuid.uuid4()
    run = uuid.uuid4()

    async def job() -> None:
        async with locks.hold(run):
            await asyncio.sleep(60)

    async with locks.hold(witness) as held:
        assert held
        pid = await _holder_pid(owner_engine, witness)
        task = asyncio.create_task(job())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        async def released() -> bool:
            async with probe.hold(run) as free:
                return free

        await _eventually(released)
        # The shared connection survived the cancellation: the other run kept its lock.
        assert await _holder_pid(owner_engine, witness) == pid
    async with locks.hold(run) as held_run:
        assert held_run


async def test_the_sweeper_leaves_alone_a_run_that_an_executor_holds(
    world: World, engine: AsyncEngine
) -> None:
    await world.open_pull_request()
    (run,) = await world.runs()
    async with world.hook.owner_engine.begin() as connection:
        await connection.execute(text("UPDATE runs SET status = 'running'"))

    async def status() -> tuple[str, str | None]:
        (row,) = await world.runs()
        return row["status"], row["status_reason"]

    another_worker = RunLocks(engine)
    try:
        async with another_worker.hold(run["id"]) as held:
            assert held
            await sweep(world.resources, grace=timedelta(0))
            assert (await status())[0] == "running"
    finally:
        await another_worker.close()
    # Executed by the sweeper's own process: not abandoned either.
    async with world.resources.run_locks.hold(run["id"]) as held_here:
        assert held_here
        await sweep(world.resources, grace=timedelta(0))
        assert (await status())[0] == "running"
    await sweep(world.resources, grace=timedelta(0))
    assert await status() == ("queued", "resumed after its worker stopped")


def test_the_worker_runs_as_many_jobs_at_once_as_configured(settings: Settings) -> None:
    assert create_worker(settings).max_jobs == 100
    configured = settings.model_copy(update={"worker_concurrency": 7})
    assert create_worker(configured).max_jobs == 7
