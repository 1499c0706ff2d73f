"""What benchmarks share: a private database and Redis, the real API process, the machine."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from tests.conftest import PG_SERVER_URL, _libpq_url, create_database, drop_database
from tests.support.migrations import run_migrations
from tests.support.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
SENTINEL = ROOT / ".venv" / "bin" / "sentinel"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    metric: str
    value: str
    goal: str = ""


@contextmanager
def bench_database() -> Iterator[str]:
    name = f"sentinel_bench_{secrets.token_hex(3)}"
    url = create_database(name)
    try:
        run_migrations(url)
        yield url
    finally:
        drop_database(name)


@contextmanager
def bench_redis(tmp: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def api_process(env: dict[str, str]) -> Iterator[str]:
    """`sentinel api` as its own process, as in production (one uvicorn worker)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [str(SENTINEL), "api", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # importing the model SDKs takes seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("sentinel api did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    with psycopg.connect(_libpq_url(PG_SERVER_URL)) as connection:
        pg_version = connection.execute("SHOW server_version").fetchone()
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; Python {sys.version.split()[0]}; "
        f"PostgreSQL {pg_version[0] if pg_version else '?'}"
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def profiled(pid: int, label: str) -> Iterator[None]:
    """With SENTINEL_BENCH_PROFILE=DIR and py-spy on PATH, samples process `pid` while the
    block runs into DIR/LABEL.txt (py-spy's raw collapsed stacks); otherwise does nothing."""
    directory = os.environ.get("SENTINEL_BENCH_PROFILE")
    py_spy = shutil.which("py-spy")
    if not directory or py_spy is None:
        yield
        return
    output = Path(directory) / f"{label}.txt"
    recorder = subprocess.Popen(  # noqa: S603 - a profiler the operator asked for
        [py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "100",
         "--nonblocking", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)  # py-spy attaches
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=30)


# Workspaces `ws-N` (N zero-padded to `{slug_width}`), each with an installation and
# `{repositories}` repositories, with deterministic ids (md5 of a name) so the rows a
# benchmark loads next can name their parents without a lookup.
WORKSPACE_ROWS = [
    """
    INSERT INTO workspaces (id, slug, name)
    SELECT md5('ws' || w)::uuid, 'ws-' || lpad(w::text, {slug_width}, '0'), 'Workspace ' || w
    FROM generate_series(1, {workspaces}) AS w
    """,
    """
    INSERT INTO installations (id, workspace_id, provider_id, external_id, account_login)
    SELECT md5('inst' || w)::uuid, md5('ws' || w)::uuid,
           (SELECT id FROM providers WHERE slug = 'github'), w, 'ws-' || w
    FROM generate_series(1, {workspaces}) AS w
    """,
    """
    INSERT INTO repositories (id, workspace_id, installation_id, external_id, name)
    SELECT md5('repo' || w || '-' || r)::uuid, md5('ws' || w)::uuid, md5('inst' || w)::uuid,
           w * 100 + r, 'ws-' || w || '/repo-' || r
    FROM generate_series(1, {workspaces}) AS w, generate_series(1, {repositories}) AS r
    """,
]


def mint_token(database_url: str, workspace: str, role: str) -> str:
    """`sentinel token create`, as an operator would."""
    result = subprocess.run(  # noqa: S603 - our own CLI
        [str(SENTINEL), "token", "create", "--workspace", workspace, "--role", role],
        env={"SENTINEL_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]
