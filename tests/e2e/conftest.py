"""End-to-end world with real processes, wired as in production:

    GitHub simulator ──signed webhook──▶ `sentinel api` ──▶ Redis ──▶ `sentinel worker`
          ▲                                                                │
          └──────── REST (installation tokens, reviews, check runs) ◀──────┤
    Anthropic simulator ◀──────────── Messages API (the workspace's key) ◀─┘

The test process serves both simulators on loopback and owns a private database (created
and migrated here, dropped at the end) and a private redis-server. `sentinel api` and
`sentinel worker` run as subprocesses of `.venv/bin/sentinel`, started once per module; their
logs go to a temporary directory and their tails are attached to any failing test's report.

Everything the tests wait for is polled (the simulators' state, the database, Redis) with a
deadline: no sleep is longer than a polling interval.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import create_engine, create_sessionmaker, tenant_session
from app.provider_keys.service import save_provider_key
from app.queue import QUEUE_NAME
from app.security.encryption import KeyRing
from sandbox.github import (
    DeliveryRecord,
    GitHubState,
    IssueComment,
    deliver,
    installation_event,
    issue_comment_event,
    pull_request_event,
    serve_github,
)
from sandbox.models import ModelFakeState, create_anthropic_app
from tests.conftest import create_database, drop_database
from tests.support.migrations import run_migrations
from tests.support.redis_server import RedisServer, free_port

SENTINEL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sentinel"
SECRET = "e2e-webhook-secret"
SLUG = "sentinel"  # SENTINEL_APP_SLUG, and the simulator's App slug (its bot is sentinel[bot])
MODEL_KEY = "sk-ant-test-e2e-0123456789abcdef"
MODEL = "claude-sonnet-5-5"
POLL_SECONDS = 0.1
DEFAULT_TIMEOUT = 30.0
PROCESS_START_TIMEOUT = 90.0
TERMINAL = ("completed", "failed", "skipped", "superseded", "cancelled")
# arq's keys for a job (arq.constants): present while it is queued/running, and while running.
JOB_KEY = "arq:job:"
IN_PROGRESS_KEY = "arq:in-progress:"
HEALTH_CHECK_KEY = f"{QUEUE_NAME}:health-check"

BASE_TEXT = "def add(a, b):\n    return a + b\n\n\ndef main():\n    print(add(1, 2))\n"
# A bug a model should catch (the model simulator flags a division by `zero`, line 6)...
HEAD_TEXT = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def ratio(total, zero):\n    return total / zero  # BUG: zero is never checked\n\n\n"
    "def main():\n    print(add(1, 2))\n"
)
# ...and a committed secret the static reviewer catches (line 1).
SECRET_FILE = 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLF"\nDEBUG = False\n'


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str
    installation: int
    repo_id: int

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


# Two installations, so that uninstalling one leaves the other to the remaining tests.
ACME = Repo("acme", "calculator", 4242, 5550001)
GLOBEX = Repo("globex", "widgets", 4343, 5550002)


class Gate:
    """Holds model calls at the door of the Anthropic simulator while closed, so a test can
    act while a review is in flight (and let it go on when it chooses) without timing."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.waiting = 0  # calls held right now

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def around(self, app: Any) -> Any:
        async def gated(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and not self._open.is_set():
                self.waiting += 1
                try:
                    await self._open.wait()
                finally:
                    self.waiting -= 1
            await app(scope, receive, send)

        return gated


@asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
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


def sha_for(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()  # noqa: S324


@dataclass
class Process:
    """A `sentinel` subcommand run as a child process, its output appended to a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        self.starts += 1
        self._note(f"start #{self.starts}")
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [str(SENTINEL), *self.args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    async def wait_exit(self, within: float) -> int | None:
        deadline = asyncio.get_running_loop().time() + within
        while self.popen is not None and self.popen.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                return None
            await asyncio.sleep(0.05)
        return None if self.popen is None else self.popen.returncode

    async def kill(self) -> None:
        """SIGKILL: no shutdown hook, no graceful anything, as when a machine dies."""
        if self.running:
            os.kill(self.pid, signal.SIGKILL)
            await self.wait_exit(10)
            self._note("killed (SIGKILL)")

    async def stop(self, within: float = 15) -> None:
        if self.running:
            started = asyncio.get_running_loop().time()
            os.kill(self.pid, signal.SIGTERM)
            if await self.wait_exit(within) is None:
                await self.kill()
            took = asyncio.get_running_loop().time() - started
            self._note(f"stopped in {took:.1f}s (exit status {self.returncode})")

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.returncode

    def _note(self, line: str) -> None:
        with self.log_path.open("a") as log:
            log.write(f"--- {self.name}: {line} ---\n")

    def tail(self, lines: int = 60) -> str:
        try:
            text_ = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text_.splitlines()[-lines:])


@dataclass
class E2E:
    """The running system and what the tests do to it and look at."""

    github: GitHubState
    models: ModelFakeState
    model_gate: Gate
    model_url: str
    api: Process
    worker: Process
    api_url: str
    redis: Redis
    owner_engine: AsyncEngine
    settings: Settings
    base_shas: dict[Repo, str] = field(default_factory=dict)

    @property
    def processes(self) -> list[Process]:
        return [self.api, self.worker]

    # -- waiting -------------------------------------------------------------------------

    async def eventually(
        self,
        probe: Callable[[], Any],
        what: str,
        within: float = DEFAULT_TIMEOUT,
    ) -> Any:
        """Poll `probe` until it returns something truthy; fail after `within` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            value = probe()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            for process in self.processes:
                if process.starts and not process.running and process.popen is not None:
                    if process.popen.returncode not in (-signal.SIGKILL, -signal.SIGTERM):
                        raise AssertionError(f"{process.name} exited while waiting for {what}")
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
            await asyncio.sleep(POLL_SECONDS)

    # -- the database and the queue ------------------------------------------------------

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.owner_engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]

    async def job_exists(self, job_id: str) -> bool:
        return bool(await self.redis.exists(JOB_KEY + job_id))

    async def runs(self, repo: Repo, number: int) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT id, status, status_reason, head_sha, kind, trigger, metrics, workspace_id "
            "FROM runs WHERE external_reference LIKE :ref ORDER BY created_at",
            ref=f"{repo.full_name}#{number}@%",
        )

    async def run_for(self, repo: Repo, number: int, head_sha: str) -> dict[str, Any] | None:
        return next((r for r in await self.runs(repo, number) if r["head_sha"] == head_sha), None)

    async def finished_run(
        self,
        repo: Repo,
        number: int,
        head_sha: str,
        within: float = DEFAULT_TIMEOUT,
        *,
        job_ended: bool = False,
    ) -> dict[str, Any]:
        """The run of `head_sha` once it reached a terminal status (a review's last write),
        and with `job_ended` once its job has ended too (a run stopped by intake while its
        job goes on)."""

        async def probe() -> dict[str, Any] | None:
            run = await self.run_for(repo, number, head_sha)
            if run is None or run["status"] not in TERMINAL:
                return None
            if job_ended and await self.job_exists(str(run["id"])):
                return None
            return run

        return await self.eventually(
            probe, f"the run of {repo.full_name}#{number}@{head_sha[:8]}", within
        )

    async def usage(self, run_id: Any) -> dict[str, int]:
        rows = await self.rows(
            "SELECT type, quantity FROM usage_records WHERE run_id = :id", id=run_id
        )
        types = [row["type"] for row in rows]
        assert len(types) == len(set(types)), f"usage recorded twice: {types}"
        return {row["type"]: row["quantity"] for row in rows}

    # -- GitHub → api → Redis → worker ---------------------------------------------------

    async def deliver(self, event: str, payload: dict[str, Any]) -> DeliveryRecord:
        """GitHub sends a signed delivery to `sentinel api`, which must accept it."""
        record = await deliver(self.github, event, payload)
        assert record.status_code == 202, (record.status, record.response_body)
        return record

    async def processed(
        self, record: DeliveryRecord, within: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        """The inbox row of a delivery once the worker processed it (its job has ended, so
        whatever jobs it sent are in Redis or done)."""

        async def probe() -> dict[str, Any] | None:
            rows = await self.rows(
                "SELECT * FROM webhook_deliveries WHERE delivery_id = :guid", guid=record.guid
            )
            if not rows or rows[0]["processed_at"] is None:
                return None
            return None if await self.job_exists(f"delivery:{rows[0]['id']}") else rows[0]

        return await self.eventually(probe, f"{record.event} delivery {record.guid}", within)

    # -- what people do on GitHub --------------------------------------------------------

    async def open_pull_request(self, repo: Repo, number: int) -> str:
        """A pull request with a real bug and a committed secret, delivered as opened;
        returns its head SHA."""
        head = sha_for(repo.full_name, number, "head")
        self.github.add_pull_request(
            repo.owner, repo.name, number, head, self.base_shas[repo],
            f"Add ratio ({number})", "Adds a ratio helper.", "dev-dana",
            files=[
                {"filename": "calc.py", "status": "modified", "content": HEAD_TEXT},
                {"filename": "settings.py", "status": "added", "content": SECRET_FILE},
            ],
        )  # fmt: skip
        await self.deliver(
            "pull_request", pull_request_event(self.github, repo.owner, repo.name, number)
        )
        return head

    async def push(
        self, repo: Repo, number: int, filename: str, content: str
    ) -> tuple[str, DeliveryRecord]:
        """A new commit adding `filename` on top of the PR's head, delivered as synchronize;
        returns the new head SHA and the delivery."""
        pull = self.github.pull_request(repo.owner, repo.name, number)
        assert pull is not None
        before = pull.head_sha
        head = sha_for(repo.full_name, number, filename)
        self.github.add_commit(
            repo.owner, repo.name, head, before,
            [{"filename": filename, "status": "added", "content": content}],
            f"Add {filename}", author_login=pull.user_login,
        )  # fmt: skip
        self.github.update_pull_request(repo.owner, repo.name, number, head_sha=head)
        payload = pull_request_event(
            self.github, repo.owner, repo.name, number, "synchronize", before=before
        )
        return head, await self.deliver("pull_request", payload)

    async def comment(
        self, repo: Repo, number: int, body: str, association: str, login: str = "acme-admin"
    ) -> tuple[IssueComment, DeliveryRecord]:
        comment = self.github.add_issue_comment(
            repo.owner, repo.name, None, body, login, issue_number=number
        )
        payload = issue_comment_event(self.github, repo.owner, repo.name, comment.id)
        payload["comment"]["author_association"] = association
        return comment, await self.deliver("issue_comment", payload)

    def reactions_on(self, comment: IssueComment) -> list[dict[str, Any]]:
        return [r for r in self.github.reactions if r["comment_id"] == comment.id]

    def summaries(self, repo: Repo, number: int) -> list[Any]:
        return [
            c
            for c in self.github.issue_comments_on(repo.owner, repo.name, number)
            if "sentinel:summary" in c.body
        ]

    # -- the processes -------------------------------------------------------------------

    async def api_ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.api_url, timeout=2) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await self.eventually(ready, "the api to be ready", within=PROCESS_START_TIMEOUT)

    async def start_worker(self) -> None:
        """Start `sentinel worker` and wait until it polls the queue (arq writes its health
        check key on its first poll, after the start-up hook and its sweep)."""
        await self.redis.delete(HEALTH_CHECK_KEY)
        self.worker.start()
        # Importing the two model SDKs alone takes seconds on a busy 2-core machine.
        await self.eventually(
            lambda: self.redis.exists(HEALTH_CHECK_KEY),
            "the worker to start polling",
            within=PROCESS_START_TIMEOUT,
        )


def _env(settings: Settings, github: GitHubState, github_url: str) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SENTINEL_") and k not in {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}
    }
    assert settings.encryption_keys is not None
    return {
        **inherited,
        "SENTINEL_DATABASE_URL": settings.database_url,
        "SENTINEL_DATABASE_POOL_SIZE": "5",
        "SENTINEL_REDIS_URL": settings.redis_url,
        "SENTINEL_GITHUB_APP_ID": str(github.app_id),
        "SENTINEL_GITHUB_PRIVATE_KEY": github.private_key_pem,
        "SENTINEL_GITHUB_API_URL": github_url,
        "SENTINEL_GITHUB_WEBHOOK_SECRET": SECRET,
        "SENTINEL_APP_SLUG": SLUG,
        "SENTINEL_ENCRYPTION_KEYS": settings.encryption_keys.get_secret_value(),
        "SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS": "true",
        "SENTINEL_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def _arrange(github: GitHubState) -> dict[Repo, str]:
    base_shas = {}
    for repo in (ACME, GLOBEX):
        github.add_installation(repo.installation, repo.owner, account_type="Organization")
        github.add_repository(repo.installation, repo.owner, repo.name, repo.repo_id)
        github.set_file(repo.owner, repo.name, "main", "calc.py", BASE_TEXT)
        repository = github.repository(repo.owner, repo.name)
        assert repository is not None
        base_shas[repo] = github.git_for(repository).branches["main"]
    return base_shas


@pytest.fixture(scope="module")
def e2e_database() -> Iterator[str]:
    """A database of its own (the session's is emptied after every test)."""
    name = f"sentinel_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    url = create_database(name)
    try:
        run_migrations(url)
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def e2e_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("e2e-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def e2e_stack(
    e2e_database: str, e2e_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[E2E]:
    settings = Settings(
        database_url=e2e_database,
        redis_url=e2e_redis.url,
        encryption_keys="1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        github_webhook_secret=SECRET,
        allow_private_provider_urls=True,
        app_slug=SLUG,
    )
    logs = tmp_path_factory.mktemp("e2e-logs")
    github = GitHubState(webhook_secret=SECRET, slug=SLUG)
    base_shas = _arrange(github)
    models = ModelFakeState(api_keys=[MODEL_KEY])
    gate = Gate()
    owner_engine = create_engine(settings, runtime_role=False, pool_size=2, max_overflow=2)
    runtime_engine = create_engine(settings, pool_size=2, max_overflow=0)
    redis = Redis.from_url(settings.redis_url)
    anthropic = gate.around(create_anthropic_app(models))
    async with serve_github(github) as github_url, serve_asgi(anthropic) as model_url:
        env = _env(settings, github, github_url)
        port = free_port()
        api_url = f"http://127.0.0.1:{port}"
        github.webhook_url = f"{api_url}/webhooks/github"
        # The console's "Sign in with GitHub": the App's OAuth client, its callback here.
        env["SENTINEL_PUBLIC_URL"] = api_url
        env["SENTINEL_GITHUB_CLIENT_ID"] = github.client_id
        env["SENTINEL_GITHUB_CLIENT_SECRET"] = github.client_secret
        github.callback_urls = [f"{api_url}/console/oauth/github/callback"]
        api = Process("api", ["api", "--port", str(port)], env, logs / "api.log")
        worker = Process("worker", ["worker"], env, logs / "worker.log")
        e2e = E2E(
            github, models, gate, model_url, api, worker, api_url, redis, owner_engine,
            settings, base_shas,
        )  # fmt: skip
        try:
            try:
                await _start(e2e, runtime_engine)
            except Exception as error:
                tails = "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in e2e.processes)
                raise AssertionError(f"the system did not start: {error}\n{tails}") from error
            yield e2e
        finally:
            gate.open()
            await worker.stop()
            await api.stop()
            await redis.aclose()
            await owner_engine.dispose()
            await runtime_engine.dispose()


async def _start(e2e: E2E, runtime_engine: AsyncEngine) -> None:
    # Both start at once: importing Sentinel takes seconds on a busy machine.
    e2e.api.start()
    await asyncio.gather(e2e.api_ready(), e2e.start_worker())
    # Installing the App provisions a workspace per account; each saves its key.
    sessionmaker = create_sessionmaker(runtime_engine)
    for repo in (ACME, GLOBEX):
        payload = installation_event(e2e.github, repo.installation)
        await e2e.processed(await e2e.deliver("installation", payload))
        (installation,) = await e2e.rows(
            "SELECT workspace_id FROM installations WHERE external_id = :id",
            id=repo.installation,
        )
        workspace_id = installation["workspace_id"]
        async with tenant_session(sessionmaker, workspace_id) as session:
            await save_provider_key(
                session,
                KeyRing(e2e.settings.encryption_key_ring),
                workspace_id=workspace_id,
                provider="anthropic",
                api_key=SecretStr(MODEL_KEY),
                base_url=e2e.model_url,
                model=MODEL,
            )


# The console's browser tests: Debian's Chromium, driven by Playwright (no browser download).
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium per test module; screenshots go under `SCREENSHOTS`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def e2e(e2e_stack: E2E) -> AsyncIterator[E2E]:
    """The module's running system, with the worker up and the model answering."""
    if not e2e_stack.worker.running:
        await e2e_stack.start_worker()
    yield e2e_stack
    e2e_stack.model_gate.open()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach the tails of the processes' logs to a failing test's report."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("e2e")
    if isinstance(stack, E2E) and report.failed:
        for process in stack.processes:
            report.sections.append((f"{process.name} log (tail)", process.tail()))
    return report
