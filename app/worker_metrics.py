"""What an operator watches in the worker. `sentinel worker --metrics-port P` serves these in
Prometheus text format (the API's /metrics serves the receiver's and the queue's)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DELIVERIES_PROCESSED = Counter(
    "sentinel_deliveries_processed_total",
    "Webhook deliveries processed by the worker",
    ["event", "outcome"],
)
RUNS_FINISHED = Counter(
    "sentinel_runs_finished_total", "Review runs that reached a final status", ["status"]
)
RUN_DURATION = Histogram(
    "sentinel_run_duration_seconds",
    "From a run's start to its end",
    buckets=(0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
RUN_QUEUE_WAIT = Histogram(
    "sentinel_run_queue_wait_seconds",
    "From a run's creation to its start",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
MODEL_LATENCY = Histogram(
    "sentinel_model_call_duration_seconds",
    "Model calls, by provider",
    ["provider"],
    buckets=(0.5, 1, 2.5, 5, 10, 20, 40, 60, 120),
)
MODEL_TOKENS = Counter(
    "sentinel_model_tokens_total", "Tokens reported by providers", ["provider", "direction"]
)
GITHUB_REQUESTS = Counter(
    "sentinel_github_requests_total", "Requests to GitHub's API, by outcome", ["outcome"]
)
RETRIES = Counter(
    "sentinel_run_retries_total", "Runs re-queued after a transient fault", ["source"]
)
