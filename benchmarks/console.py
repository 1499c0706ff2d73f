"""The web console's page loads: for each page, the requests its script makes (the page
shell, the session, then its API calls in the order the page makes them), through the real
`sentinel api` process over HTTP with a console session cookie, with 10,000 runs in the
workspace (and 9 other workspaces of 10,000 runs each in the same tables), each run with 3
findings, their annotations and 3 usage records.

The figure is server time: the sum over a page's requests of the `Server-Timing` each
answer carries (the API's own time to its answer), p50 and p95 over the samples; the time
the client saw is printed beside it.
"""

# ruff: noqa: T201 - progress lines go to stderr on purpose

from __future__ import annotations

import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

from benchmarks.support import (
    WORKSPACE_ROWS,
    Figure,
    api_process,
    bench_database,
    bench_redis,
    mint_token,
    percentile,
)
from tests.conftest import _libpq_url

WORKSPACES = 10
REPOSITORIES = 5
RUNS_PER_WORKSPACE = int(os.environ.get("SENTINEL_BENCH_CONSOLE_RUNS", "10000"))
WORKSPACE = "ws-01"
WARM_UP = 10
SAMPLES = 200
GOAL_P95_MS = 200.0
MS = 1000.0

_ROWS = [
    *WORKSPACE_ROWS,
    # Metrics as a real run keeps them, with 20 files not reviewed.
    """
    INSERT INTO runs (id, workspace_id, repository_id, external_reference, kind, trigger,
                      pull_request_number, head_sha, status, status_reason, metrics,
                      policy_snapshot, started_at, completed_at, created_at, updated_at)
    SELECT md5('run' || w || '-' || i)::uuid, md5('ws' || w)::uuid,
           md5('repo' || w || '-' || (i % {repositories} + 1))::uuid,
           'bench#' || w || '-' || i, 'automatic', 'pull_request.opened', i / 3 + 1,
           md5(w || '-' || i), s.status,
           CASE s.status WHEN 'failed'
             THEN 'Anthropic rejected the key (401): replace it under provider keys' END,
           jsonb_build_object(
             'mode', 'full', 'provider', 'anthropic', 'model', 'claude-sonnet-5-5',
             'prompt_version', '2026-12-07.2', 'input_tokens', 2000 + i % 5000,
             'output_tokens', 200 + i % 900, 'model_calls', 1 + i % 4, 'files_reviewed', 12,
             'inline_comments', 2, 'summary_findings', 1, 'cost_usd', '0.0123',
             'estimate', '1 model call for 12 files: ~4,000 input tokens',
             'not_reviewed', (SELECT jsonb_agg(jsonb_build_array('vendor/lib' || f || '.min.js',
                              'minified')) FROM generate_series(1, 20) AS f)),
           jsonb_build_object('hash', md5('policy' || w), 'review', '{{}}'::jsonb),
           t, t + interval '40 seconds', t, t
    FROM generate_series(1, {workspaces}) AS w, generate_series(0, {runs} - 1) AS i,
         LATERAL (SELECT CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 13 = 0 THEN 'skipped'
                              ELSE 'completed' END AS status,
                         now() - (i * interval '5 minutes') AS t) AS s
    """,
    """
    INSERT INTO findings (id, workspace_id, run_id, severity, category, title, description,
                          file_path, line_start, line_end, confidence, metadata, created_at)
    SELECT md5('f' || r.id || k)::uuid, r.workspace_id, r.id,
           (ARRAY['critical', 'warning', 'info'])[k], 'bug', 'Division by zero ' || k,
           repeat('The divisor may be zero here; guard it. ', 4), 'src/module' || k || '.py',
           10 * k, 10 * k + 2, 0.9, jsonb_build_object('reviewer', 'model'), r.created_at
    FROM runs r, generate_series(1, 3) AS k
    """,
    """
    INSERT INTO annotations (workspace_id, finding_id, provider_id, type, external_id, created_at)
    SELECT f.workspace_id, f.id, (SELECT id FROM providers WHERE slug = 'github'),
           CASE WHEN f.severity = 'info' THEN 'summary' ELSE 'review_comment' END, '1234',
           f.created_at
    FROM findings f
    """,
    """
    INSERT INTO usage_records (workspace_id, run_id, repository_id, type, quantity, model,
                               metadata, created_at)
    SELECT r.workspace_id, r.id, r.repository_id, k.type,
           CASE k.type WHEN 'review' THEN 1 ELSE (r.metrics ->> 'input_tokens')::int END,
           CASE WHEN k.type = 'review' THEN NULL ELSE 'claude-sonnet-5-5' END, '{{}}'::jsonb,
           r.created_at
    FROM runs r
    CROSS JOIN (VALUES ('review'), ('llm_input_tokens'), ('llm_output_tokens')) AS k(type)
    WHERE r.status = 'completed'
    """,
]


def _log(message: str) -> None:
    print(f"  console: {message}", file=sys.stderr, flush=True)


def _load(database_url: str) -> float:
    started = time.perf_counter()
    params = {
        "slug_width": 2,
        "workspaces": WORKSPACES,
        "repositories": REPOSITORIES,
        "runs": RUNS_PER_WORKSPACE,
    }
    with psycopg.connect(_libpq_url(database_url), autocommit=True) as connection:
        connection.execute("SET session_replication_role = replica")  # no per-row triggers
        connection.execute("SET synchronous_commit = off")
        for statement in _ROWS:
            step = time.perf_counter()
            connection.execute(statement.format(**params))
            table = statement.split("INTO")[1].split("(")[0].strip()
            _log(f"{table} in {time.perf_counter() - step:.1f} s")
        connection.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


_TIMING = re.compile(r"app;dur=([0-9.]+)")


def _server_ms(response: httpx.Response) -> float:
    match = _TIMING.search(response.headers.get("server-timing", ""))
    if match is None:
        raise RuntimeError(f"{response.request.url} answered without Server-Timing")
    return float(match.group(1))


def _pages(client: httpx.Client) -> dict[str, Callable[[random.Random], list[str]]]:
    """Page name → the paths it requests, in order (after the shell and the session)."""
    ws = f"/v1/workspaces/{WORKSPACE}"
    repositories = client.get(f"{ws}/repositories").json()["repositories"]
    runs = client.get(f"{ws}/runs", params={"limit": 200}).json()["runs"]
    run_ids = [run["id"] for run in runs]
    repository_ids = [r["id"] for r in repositories]
    return {
        "runs (newest 50)": lambda _: [f"{ws}/repositories", f"{ws}/runs?limit=50"],
        "runs filtered (repository, status)": lambda rng: [
            f"{ws}/repositories",
            f"{ws}/runs?limit=50&status=failed&repository_id={rng.choice(repository_ids)}",
        ],
        "runs of one pull request": lambda rng: [
            f"{ws}/repositories",
            f"{ws}/runs?limit=50&pull_request_number={rng.randrange(1, RUNS_PER_WORKSPACE // 3)}",
        ],
        "run (findings, placements)": lambda rng: [f"{ws}/runs/{rng.choice(run_ids)}"],
        "usage (this month, by day)": lambda _: [ws, f"{ws}/usage?group_by=day"],
        "usage by repository": lambda _: [ws, f"{ws}/usage?group_by=repository"],
        "repositories": lambda _: [f"{ws}/repositories"],
        "policies": lambda _: [f"{ws}/policies"],
        "provider keys": lambda _: [f"{ws}/provider-keys"],
        "team": lambda _: [f"{ws}/members", f"{ws}/invitations"],
        "audit log": lambda _: [f"{ws}/audit-events?limit=100"],
    }


def _measure(base: str, token: str) -> list[Figure]:
    rng = random.Random(42)  # noqa: S311 - sampling, not cryptography
    with httpx.Client(base_url=base, timeout=30) as client:
        signed_in = client.post("/console/session", json={"token": token})
        signed_in.raise_for_status()
        pages = _pages(client)
        figures: list[Figure] = []
        for name, paths_of in pages.items():
            server: list[float] = []
            seen: list[float] = []
            for index in range(WARM_UP + SAMPLES):
                paths = ["/console/runs", "/console/session", *paths_of(rng)]
                server_ms = 0.0
                started = time.perf_counter()
                for path in paths:
                    response = client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"{path} answered {response.status_code}: {response.text}"
                        )
                    server_ms += _server_ms(response)
                elapsed = (time.perf_counter() - started) * MS
                if index >= WARM_UP:
                    server.append(server_ms)
                    seen.append(elapsed)
            figures.append(
                Figure(
                    "console",
                    f"{name}: {len(paths)} requests, server p50 / p95 (ms; client p95)",
                    f"{percentile(server, 0.5):.0f} / {percentile(server, 0.95):.0f} "
                    f"({percentile(seen, 0.95):.0f})",
                    f"p95 < {GOAL_P95_MS:.0f}",
                )
            )
    return figures


def run() -> list[Figure]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database() as database_url,
        bench_redis(Path(tmp)) as redis,
    ):
        _log(f"loading {WORKSPACES} workspaces of {RUNS_PER_WORKSPACE:,} runs")
        loaded = _load(database_url)
        env = {
            "SENTINEL_DATABASE_URL": database_url,
            "SENTINEL_REDIS_URL": redis.url,
            "SENTINEL_LOG_LEVEL": "WARNING",
        }
        token = mint_token(database_url, WORKSPACE, "owner")
        with api_process(env) as base:
            figures = _measure(base, token)
    return [
        Figure("console", f"runs in the workspace / in all (loaded in {loaded:.0f} s)",
               f"{RUNS_PER_WORKSPACE:,} / {WORKSPACES * RUNS_PER_WORKSPACE:,}"),
        *figures,
    ]  # fmt: skip
