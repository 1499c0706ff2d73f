"""The Quickstart's main job with real processes: the GitHub sandbox (`python -m sandbox.demo
serve-github`), `sentinel api` and `sentinel worker` on a database and a Redis of the test's
own, then `python -m sandbox.demo run`, whose printed report is checked."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.demo.sample import DEFECTS
from sandbox.models import ModelFakeState, serve_anthropic
from tests.conftest import create_database, drop_database
from tests.support.migrations import run_migrations
from tests.support.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)
SENTINEL = PYTHON.with_name("sentinel")
MODEL_KEY = "sk-ant-e2e-demo-0123456789abcdef"
# What the developer's shell may carry that would change what the demo does.
SCRUBBED = ("SENTINEL_", "ANTHROPIC_", "OPENAI_")

pytestmark = pytest.mark.timeout(180)


@dataclass
class Stack:
    env: dict[str, str]
    state_dir: Path
    api_url: str
    logs: Path

    def log_tails(self) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-40:]
            parts.append(f"--- {log.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"the sandbox exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("demo")
    logs = base / "logs"
    logs.mkdir()
    name = f"sentinel_e2e_demo_{os.getpid()}_{secrets.token_hex(3)}"
    database_url = create_database(name)
    redis = RedisServer(base)
    processes: list[subprocess.Popen[bytes]] = []

    def start(log_name: str, *command: str | Path, env: dict[str, str]) -> None:
        with (logs / f"{log_name}.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [str(part) for part in command],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip

    try:
        run_migrations(database_url)
        redis.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
        env |= {
            "SENTINEL_DATABASE_URL": database_url,
            "SENTINEL_DATABASE_POOL_SIZE": "3",
            "SENTINEL_REDIS_URL": redis.url,
            "SENTINEL_ENCRYPTION_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            # The model test points the provider key at a simulator on loopback.
            "SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS": "true",
        }
        api_url = f"http://127.0.0.1:{free_port()}"
        state_dir = base / "sandbox"
        start("github-sandbox", PYTHON, "-m", "sandbox.demo", "serve-github",
              "--state-dir", state_dir, "--webhook-url", f"{api_url}/webhooks/github",
              env=env)  # fmt: skip
        _wait_for(state_dir / "github.env", processes[0], timeout=60)
        env |= _read_env_file(state_dir / "github.env")
        start("api", SENTINEL, "api", "--port", api_url.rsplit(":", 1)[1], env=env)
        start("worker", SENTINEL, "worker", env=env)
        yield Stack(env=env, state_dir=state_dir, api_url=api_url, logs=logs)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        redis.stop()
        drop_database(name)


async def _run_demo(stack: Stack, extra_env: dict[str, str] | None = None) -> Result:
    process = await asyncio.create_subprocess_exec(
        str(PYTHON), "-m", "sandbox.demo", "run", "--state-dir", str(stack.state_dir),
        "--sentinel-url", stack.api_url, "--timeout", "60",
        cwd=ROOT, env={**stack.env, **(extra_env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=150)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


def _explain(stack: Stack, result: Result) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}\n{stack.log_tails()}"


async def test_the_static_reviewer_reviews_the_sample_pull_request(stack: Stack) -> None:
    result = await _run_demo(stack)
    out = result.stdout
    assert result.returncode == 0, _explain(stack, result)

    assert "Reviewer        the static reviewer alone" in out
    secret = next(d for d in DEFECTS if d.what == "a committed AWS access key ID")
    comment = re.search(rf"^\s+{re.escape(secret.path)}:{secret.line}\s+(.+)$", out, re.M)
    assert comment is not None, out
    assert "Committed secret: AWS access key ID" in comment.group(1)
    assert "[static:secrets]" in comment.group(1)
    check = re.search(
        r'Check run "Sentinel" on [0-9a-f]{12}: completed, conclusion: (\w+), '
        r"(\d+) annotation\(s\)",
        out,
    )
    assert check is not None, out
    assert check.group(1) in {"neutral", "failure"}  # critical findings, by the policy
    assert int(check.group(2)) >= 2
    assert "Summary comment" in out
    assert "│ ## Sentinel review" in out
    assert re.search(r"^\s+review\s+1\s+-$", out, re.M), out
    assert "llm_input_tokens" not in out  # no model, no token records
    assert "Reviewed by the static reviewer alone (no model call)" in out
    assert re.search(
        r"See it in the web console: http://\S+/console/runs/[0-9a-f-]{36}$", out, re.M
    )
    assert re.search(r"sign in with this admin token of workspace acme: snt_\S+$", out, re.M)
    # The committed key never reaches the output, masked or not.
    assert "AKIA" + "Q4V7N2ZK8XW3RT6M" not in out


async def test_with_a_model_key_the_demo_saves_it_and_a_model_reviews(stack: Stack) -> None:
    models = ModelFakeState(api_keys=[MODEL_KEY])
    async with serve_anthropic(models) as model_url:
        result = await _run_demo(
            stack, {"ANTHROPIC_API_KEY": MODEL_KEY, "ANTHROPIC_BASE_URL": model_url}
        )
    out = result.stdout
    assert result.returncode == 0, _explain(stack, result)

    assert "the static reviewer and anthropic (key from ANTHROPIC_API_KEY)" in out
    assert "Saved ANTHROPIC_API_KEY as the workspace's anthropic key, …cdef" in out
    assert models.requests, "the model was never called"
    assert re.search(r"^\s+llm_input_tokens\s+[1-9]\d*\s", out, re.M), out
    assert re.search(r"^\s+llm_output_tokens\s+\d+\s", out, re.M), out
    assert "Reviewed by the static reviewer and anthropic" in out
    assert MODEL_KEY not in out + result.stderr
