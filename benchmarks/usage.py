"""Usage aggregation: `GET /v1/workspaces/{w}/usage` for one workspace and one month, with
10 million usage records in the table (100 workspaces, 12 months), through the real
`sentinel api` process over HTTP, for each `group_by`.

The rows are generated server-side (INSERT ... SELECT generate_series) as the database owner,
with the runs, repositories and installations their foreign keys need. Records are written
in time order with the workspaces interleaved, as production would write them. Secondary
indexes are dropped during the load and rebuilt after it (faster than maintaining them row by
row), then the tables are vacuumed and analysed, as autovacuum would have done.
"""

# ruff: noqa: T201 - progress lines go to stderr on purpose

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.dialects import postgresql

from app.usage.queries import GroupBy, usage_sums_statement
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

WORKSPACES = 100
REPOSITORIES_PER_WORKSPACE = 5
RECORDS_PER_RUN = 3  # review, llm_input_tokens, llm_output_tokens: (run, type) is unique
# A smaller figure (e.g. 300000) checks the benchmark itself in seconds.
TARGET_RECORDS = int(os.environ.get("SENTINEL_BENCH_USAGE_RECORDS", "10000000"))
RUNS = -(-TARGET_RECORDS // RECORDS_PER_RUN)
FIRST_DAY = "2025-12-01"  # 12 months: 2025-12-01 .. 2026-12-01
WORKSPACE = "ws-042"
MONTH = ("2026-06-01", "2026-07-01")
WARM_UP = 20
SAMPLES = 300
GOAL_P95_MS = 100.0

# Deterministic ids, so each table's rows can name their parents without a lookup.
_SCHEMA_ROWS = [
    *WORKSPACE_ROWS,
    # Run i: workspace i % W, repository (i / W) % R, created at its share of the year.
    """
    INSERT INTO runs (id, workspace_id, repository_id, external_reference, kind, trigger,
                      pull_request_number, head_sha, status, created_at, updated_at)
    SELECT md5('run' || i)::uuid, md5('ws' || w)::uuid, md5('repo' || w || '-' || r)::uuid,
           'bench#' || i, 'manual', 'bench', i / {workspaces}, md5(i::text), 'completed', t, t
    FROM generate_series(0, {runs} - 1) AS i,
         LATERAL (SELECT i % {workspaces} + 1 AS w,
                         (i / {workspaces}) % {repositories} + 1 AS r,
                         timestamptz '{first_day} 00:00+00'
                           + (i::float8 / {runs}) * interval '365 days' AS t) AS p
    """,
    """
    INSERT INTO usage_records (workspace_id, run_id, repository_id, type, quantity, model,
                               metadata, created_at)
    SELECT r.workspace_id, r.id, r.repository_id, k.type,
           CASE k.type WHEN 'review' THEN 1
                       WHEN 'llm_input_tokens' THEN 2000 + (hashtext(r.head_sha) & 65535)
                       ELSE 200 + (hashtext(r.head_sha) & 4095) END,
           CASE WHEN k.type = 'review' THEN NULL ELSE m.model END,
           jsonb_build_object('provider', m.provider, 'model', m.model,
                              'repository', 'bench/repo', 'pull_request', r.pull_request_number),
           r.created_at
    FROM runs r
    CROSS JOIN (VALUES ('review', 1), ('llm_input_tokens', 2), ('llm_output_tokens', 3))
         AS k(type, ord)
    CROSS JOIN LATERAL (SELECT CASE r.pull_request_number % 3
                                 WHEN 0 THEN 'claude-sonnet-5-5' WHEN 1 THEN 'gpt-6.2-sol'
                                 ELSE 'claude-haiku-4-5' END AS model,
                               CASE r.pull_request_number % 3 WHEN 1 THEN 'openai'
                                 ELSE 'anthropic' END AS provider) AS m
    ORDER BY r.created_at, r.id, k.ord
    """,
]


def _log(message: str) -> None:
    print(f"  usage: {message}", file=sys.stderr, flush=True)


def _secondary_indexes(connection: psycopg.Connection, tables: tuple[str, ...]) -> list[str]:
    """CREATE statements of indexes that back no constraint: safe to drop and rebuild."""
    rows = connection.execute(
        """
        SELECT i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (list(tables),),
    ).fetchall()
    return [row[0] for row in rows]


def _load(database_url: str) -> tuple[int, float]:
    started = time.perf_counter()
    with psycopg.connect(_libpq_url(database_url), autocommit=True) as connection:
        # The benchmark database is ours alone: skip per-row foreign key checks (the rows
        # are consistent by construction) and spend memory on index builds.
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute("SET synchronous_commit = off")
        definitions = _secondary_indexes(connection, ("runs", "usage_records"))
        for definition in definitions:
            name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            connection.execute(f"DROP INDEX {name}")
        params = {
            "slug_width": 3,
            "workspaces": WORKSPACES,
            "repositories": REPOSITORIES_PER_WORKSPACE,
            "runs": RUNS,
            "first_day": FIRST_DAY,
        }
        for statement in _SCHEMA_ROWS:
            step = time.perf_counter()
            connection.execute(statement.format(**params))
            _log(f"{statement.split('INTO')[1].split('(')[0].strip()} "
                 f"in {time.perf_counter() - step:.0f} s")  # fmt: skip
        step = time.perf_counter()
        for definition in definitions:
            connection.execute(definition)
        _log(f"{len(definitions)} indexes rebuilt in {time.perf_counter() - step:.0f} s")
        step = time.perf_counter()
        connection.execute("VACUUM (ANALYZE) runs, usage_records")
        _log(f"vacuum and analyse in {time.perf_counter() - step:.0f} s")
        count = connection.execute("SELECT count(*) FROM usage_records").fetchone()
    return (count[0] if count else 0), time.perf_counter() - started


def _explain(database_url: str, group_by: GroupBy) -> str:
    """The plan of exactly the query the endpoint runs, as the runtime role, scoped."""
    with psycopg.connect(_libpq_url(database_url)) as connection:
        workspace_id = connection.execute(
            "SELECT id FROM workspaces WHERE slug = %s", (WORKSPACE,)
        ).fetchone()
        if workspace_id is None:
            raise RuntimeError(f"no workspace {WORKSPACE}")
        statement = usage_sums_statement(
            uuid.UUID(str(workspace_id[0])),
            start=datetime.fromisoformat(MONTH[0]).replace(tzinfo=UTC),
            end=datetime.fromisoformat(MONTH[1]).replace(tzinfo=UTC),
            group_by=group_by,
        )
        sql = str(
            statement.compile(
                dialect=postgresql.dialect(),
                compile_kwargs={"literal_binds": True},
            )
        )
        connection.execute("SET ROLE sentinel_app")
        connection.execute(
            "SELECT set_config('sentinel.workspace_id', %s, true)", (str(workspace_id[0]),)
        )
        rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()
    return "\n".join(row[0] for row in rows)


def _measure(base: str, token: str, group_by: GroupBy) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    params = {"start": MONTH[0], "end": MONTH[1], "group_by": group_by.value}
    latencies: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for index in range(WARM_UP + SAMPLES):
            started = time.perf_counter()
            response = client.get(f"/v1/workspaces/{WORKSPACE}/usage", params=params)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"usage answered {response.status_code}: {response.text}")
            if index >= WARM_UP:
                latencies.append(elapsed)
    return latencies


def run() -> list[Figure]:
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database() as database_url,
        bench_redis(Path(tmp)) as redis,
    ):
        records, load_seconds = _load(database_url)
        figures.append(Figure("usage", "usage records loaded (seconds)",
                              f"{records:,} ({load_seconds:.0f} s)"))  # fmt: skip
        token = mint_token(database_url, WORKSPACE, "billing")
        env = {
            "SENTINEL_DATABASE_URL": database_url,
            "SENTINEL_REDIS_URL": redis.url,
            "SENTINEL_LOG_LEVEL": "WARNING",
        }
        with api_process(env) as base:
            for group_by in GroupBy:
                latencies = _measure(base, token, group_by)
                p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
                figures.append(
                    Figure("usage", f"GET usage, 1 workspace x 1 month, group_by={group_by.value}"
                           " p50 / p95 (ms)", f"{p50:.1f} / {p95:.1f}",
                           f"p95 <= {GOAL_P95_MS:.0f}")
                )  # fmt: skip
        for group_by in GroupBy:
            plan = _explain(database_url, group_by)
            print(f"\nEXPLAIN usage group_by={group_by.value}:\n{plan}\n", file=sys.stderr)
    return figures
