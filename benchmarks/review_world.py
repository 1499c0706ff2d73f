"""The world the review benchmarks run in: the real `sentinel api` and `sentinel worker`
processes on a private Postgres database and Redis, with the GitHub simulator and the
Anthropic simulator served on loopback from the benchmark's own event loop.

Both simulators are wrapped in a recorder that timestamps every request (arrival and the
moment the answer starts), so a benchmark knows exactly when a review reached "GitHub"
without polling, and where the time in between went.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from pydantic import SecretStr

from app.config import Settings
from app.db import tenant_session
from app.provider_keys.service import save_provider_key
from app.resources import Resources
from app.security.encryption import KeyRing
from benchmarks.support import SENTINEL, api_process, bench_database, bench_redis
from sandbox.github import (
    GitHubState,
    create_github_app,
    encode,
    installation_event,
    pull_request_event,
    signed_headers,
)
from sandbox.models import ModelFakeState, create_anthropic_app
from tests.conftest import _libpq_url
from tests.support.redis_server import free_port

SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway secret for private servers
MODEL_KEY = "sk-ant-bench-0123456789abcdef"
OWNER, NAME, INSTALLATION = "acme", "service", 4242
FILES_PER_PR = 20
BUGGY_FILES = 3  # files whose change carries a `BUG:` marker the model fake reports

ASGI = Callable[..., Any]


@dataclass(frozen=True)
class Hit:
    """One request a simulator answered: when it arrived and when its answer started."""

    arrived: float
    answered: float
    method: str
    path: str
    status: int


@dataclass
class Recorder:
    """Timestamps (time.perf_counter) of every request an ASGI app answers, and futures that
    resolve when a request to a given path is answered with a 2xx."""

    hits: list[Hit] = field(default_factory=list)
    _waiters: dict[tuple[str, str], asyncio.Future[Hit]] = field(default_factory=dict)

    def wrap(self, app: ASGI) -> ASGI:
        async def recorded(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            arrived = time.perf_counter()

            async def send_and_record(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    hit = Hit(
                        arrived, time.perf_counter(), scope["method"], scope["path"],
                        message["status"],
                    )  # fmt: skip
                    self.hits.append(hit)
                    waiter = self._waiters.pop((hit.method, hit.path), None)
                    if waiter is not None and not waiter.done() and 200 <= hit.status < 300:
                        waiter.set_result(hit)
                    elif waiter is not None:
                        self._waiters[(hit.method, hit.path)] = waiter
                await send(message)

            await app(scope, receive, send_and_record)

        return recorded

    def expect(self, method: str, path: str) -> asyncio.Future[Hit]:
        """A future for the next 2xx answer to `method path` (register before causing it)."""
        future: asyncio.Future[Hit] = asyncio.get_running_loop().create_future()
        self._waiters[(method, path)] = future
        return future

    def since(self, moment: float) -> list[Hit]:
        return [hit for hit in self.hits if hit.arrived >= moment]


@asynccontextmanager
async def _serve(app: ASGI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
            timeout_graceful_shutdown=5,
        )
    )  # fmt: skip
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`sentinel worker` as its own process, as in production (arq, one event loop)."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [str(SENTINEL), "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=40)  # arq lets running jobs finish (job_completion_wait)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _base_text(index: int) -> str:
    lines = [f'"""Module {index} of the service."""', "", "import math", ""]
    for f in range(6):
        lines += [
            "",
            f"def function_{f}(value, scale=1.0):",
            f'    """Scale `value` ({index}.{f})."""',
            "    result = value * scale",
            f"    result += {f} * math.pi",
            "    return round(result, 3)",
        ]
    return "\n".join(lines) + "\n"


def _head_text(index: int, number: int) -> str:
    """The base with one function changed and a new one added (about 16 changed lines)."""
    lines = _base_text(index).splitlines()
    lines[lines.index("    result = value * scale", 0)] = "    result = value * scale * 1.5"
    lines += [
        "",
        "",
        f"def ratio_{number}(total, count):",
        f'    """Average for PR {number}, file {index}."""',
        "    if count <= 0:",
        "        return 0.0",
        "    share = total / count",
        "    return round(share, 2)",
        "",
        "",
        f"def describe_{number}(items):",
        '    return ", ".join(str(item) for item in items)',
    ]
    if index < BUGGY_FILES:
        lines.append(f"    # BUG: items may be None here (PR {number})")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Sent:
    guid: str
    duration: float


@dataclass
class ReviewWorld:
    github: GitHubState
    models: ModelFakeState
    github_hits: Recorder
    model_hits: Recorder
    database_url: str
    owner: psycopg.AsyncConnection[Any]
    base_sha: str
    worker_pid: int
    hookshot: httpx.AsyncClient  # keep-alive connections to the receiver
    _numbers: Iterator[int] = field(default_factory=lambda: iter(range(100, 1_000_000)))

    def open_pull_request(self) -> tuple[int, dict[str, Any]]:
        """A new pull request (new number, new head) of FILES_PER_PR modified files, and its
        `pull_request.opened` payload. All arranging happens here, before any clock starts."""
        number = next(self._numbers)
        head_sha = secrets.token_hex(20)
        self.github.add_pull_request(
            OWNER, NAME, number, head_sha, self.base_sha, f"Change {number}",
            "Benchmark pull request.", "dev-dana",
            files=[
                {"filename": _path(i), "status": "modified", "content": _head_text(i, number)}
                for i in range(FILES_PER_PR)
            ],
            head_ref=f"bench-{number}",
        )  # fmt: skip
        return number, pull_request_event(self.github, OWNER, NAME, number, "opened")

    async def send(self, payload: dict[str, Any], event: str = "pull_request") -> Sent:
        """POST a delivery with every header GitHub's Hookshot sends, signed; the seconds to
        the 2xx. (Not `sandbox.github.deliver`: it builds a new httpx client per delivery,
        about 20 ms of SSL set-up on this side that is no part of Sentinel's time.)"""
        github = self.github
        body = encode(payload)
        guid = str(uuid.uuid4())
        headers = signed_headers(
            github.webhook_secret, event, body, guid, hook_id=github.hook_id, app_id=github.app_id
        )
        started = time.perf_counter()
        response = await self.hookshot.post("/webhooks/github", content=body, headers=headers)
        elapsed = time.perf_counter() - started
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"delivery answered {response.status_code}: {response.text}")
        return Sent(guid, elapsed)

    def worker_cpu_seconds(self) -> float:
        """User + system CPU time the worker process has used so far."""
        fields = Path(f"/proc/{self.worker_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pull_path(self, number: int) -> str:
        return f"/repos/{OWNER}/{NAME}/pulls/{number}"

    def review_path(self, number: int) -> str:
        return f"/repos/{OWNER}/{NAME}/pulls/{number}/reviews"

    def summary_path(self, number: int) -> str:
        return f"/repos/{OWNER}/{NAME}/issues/{number}/comments"

    async def scalar(self, sql: str, *args: Any) -> Any:
        cursor = await self.owner.execute(sql, args)
        row = await cursor.fetchone()
        return row[0] if row else None

    async def wait_for(self, sql: str, *args: Any, timeout: float) -> Any:  # noqa: ASYNC109
        """Poll `sql` every 20 ms until its first column is truthy; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.scalar(sql, *args)
            if value:
                return value
            await asyncio.sleep(0.02)
        raise TimeoutError(f"waited {timeout:.0f} s for: {sql}")


def _path(index: int) -> str:
    return f"src/service/part{index % 4}/module_{index}.py"


def _arrange(github: GitHubState) -> str:
    github.add_installation(INSTALLATION, OWNER, account_type="Organization")
    github.add_repository(INSTALLATION, OWNER, NAME, 7770001)
    for index in range(FILES_PER_PR):
        github.set_file(OWNER, NAME, "main", _path(index), _base_text(index))
    repository = github.repository(OWNER, NAME)
    if repository is None:
        raise RuntimeError("the simulator lost the repository")
    # The simulator's secondary limit (80 writes a minute) is GitHub realism that would
    # stall a benchmark posting hundreds of reviews a minute: lift it.
    github.secondary_writes_per_minute = 10**9
    github.secondary_writes_per_hour = 10**9
    # So is the primary budget (5,000 requests an hour per installation): a benchmark run
    # makes more than that in a few minutes.
    github.installation_rate_limit(INSTALLATION).limit = 10**9
    return github.git_for(repository).branches["main"]


@contextmanager
def bench_services() -> Iterator[tuple[str, str]]:
    """A private database (migrated) and Redis: (database URL, Redis URL). Outside any event
    loop: the migrations run their own."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database() as database_url,
        bench_redis(Path(tmp)) as redis,
    ):
        yield database_url, redis.url


@asynccontextmanager
async def review_world(database_url: str, redis_url: str) -> AsyncIterator[ReviewWorld]:
    """Everything else up: simulators, API and worker processes, an installed repository
    whose workspace has an Anthropic key pointing at the simulator and no monthly review
    quota."""
    github = GitHubState(webhook_secret=SECRET, slug="sentinel")
    base_sha = _arrange(github)
    models = ModelFakeState(api_keys=[MODEL_KEY])
    github_hits, model_hits = Recorder(), Recorder()
    encryption_keys = "1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            _serve(github_hits.wrap(create_github_app(github))) as github_url,
            _serve(model_hits.wrap(create_anthropic_app(models))) as model_url,
        ):
            github.base_url = github_url
            env = {
                "SENTINEL_DATABASE_URL": database_url,
                "SENTINEL_REDIS_URL": redis_url,
                "SENTINEL_GITHUB_WEBHOOK_SECRET": SECRET,
                "SENTINEL_GITHUB_APP_ID": str(github.app_id),
                "SENTINEL_GITHUB_PRIVATE_KEY": github.private_key_pem,
                "SENTINEL_GITHUB_API_URL": github_url,
                "SENTINEL_APP_SLUG": "sentinel",
                "SENTINEL_ENCRYPTION_KEYS": encryption_keys,
                "SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS": "true",
                "SENTINEL_LOG_LEVEL": "WARNING",
            }
            log_path = Path(tmp) / "worker.log"
            world: ReviewWorld | None = None
            owner = await psycopg.AsyncConnection.connect(_libpq_url(database_url), autocommit=True)
            try:
                with api_process(env) as api_url, worker_process(env, log_path) as worker:
                    github.webhook_url = f"{api_url}/webhooks/github"
                    hookshot = httpx.AsyncClient(base_url=api_url, timeout=30)
                    world = ReviewWorld(
                        github, models, github_hits, model_hits, database_url, owner, base_sha,
                        worker.pid, hookshot,
                    )  # fmt: skip
                    try:
                        await _install(world, encryption_keys, database_url, redis_url,
                                       model_url)  # fmt: skip
                        yield world
                    except BaseException:
                        if worker.poll() is not None or log_path.stat().st_size:
                            tail = log_path.read_text(errors="replace")[-3000:]
                            print(f"worker log (tail):\n{tail}")  # noqa: T201
                        raise
            finally:
                await owner.close()
                if world is not None:
                    await world.hookshot.aclose()


async def _install(
    world: ReviewWorld, encryption_keys: str, database_url: str, redis_url: str, model_url: str
) -> None:
    await world.send(installation_event(world.github, INSTALLATION), event="installation")
    # The worker processed the installation: it is up. (Up to 60 s: a cold start imports a lot.)
    workspace_id = await world.wait_for("SELECT id FROM workspaces LIMIT 1", timeout=60)
    # No monthly quota: the benchmark reviews more pull requests than the free plan allows.
    # (A private database, dropped afterwards; the shipped plans are untouched elsewhere.)
    await world.owner.execute(
        "UPDATE plans SET limits = jsonb_set(limits, '{reviews_per_month}', 'null')"
    )
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        encryption_keys=SecretStr(encryption_keys),
        allow_private_provider_urls=True,
        database_pool_size=2,
    )
    resources = await Resources.build(settings)
    try:
        async with tenant_session(resources.sessionmaker, workspace_id) as session:
            await save_provider_key(
                session,
                KeyRing(settings.encryption_key_ring),
                workspace_id=workspace_id,
                provider="anthropic",
                api_key=SecretStr(MODEL_KEY),
                base_url=model_url,
                model="claude-sonnet-5-5",
            )
    finally:
        await resources.close()
