# syntax=docker/dockerfile:1
#
# Build:  docker build -t sentinel .
# API:    docker run --env-file sentinel.env -p 8000:8000 sentinel
# Other subcommands replace CMD, since the entrypoint is the `sentinel` CLI:
#         docker run --env-file sentinel.env sentinel migrate

# ---- console: the web console's npm packages, as pinned by console/package-lock.json -------
FROM node:20-bookworm-slim AS console
WORKDIR /console
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=bind,source=console/package.json,target=package.json \
    --mount=type=bind,source=console/package-lock.json,target=package-lock.json \
    npm ci --omit=dev --no-audit --no-fund

# ---- builder: resolve and install dependencies with uv ---------------------------------------
# Both stages use the same base image, so the venv's interpreter path exists in the runtime.
FROM python:3.11-slim-bookworm AS builder

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

# Bytecode compiled at build time makes container start-up faster; copy (not hardlink) because
# the uv cache is a separate mount; never let uv download its own Python.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

WORKDIR /app

# Dependencies first, from the lock file alone: this layer is reused until uv.lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself (README.md is the package's declared readme, needed by the build).
# uv installs it editable, so the code runs from /app and app/cli.py finds alembic.ini and
# migrations/ beside it, as in a checkout.
COPY pyproject.toml uv.lock README.md alembic.ini github-app.yml ./
COPY app/ ./app/
COPY reviewers/ ./reviewers/
COPY migrations/ ./migrations/
COPY --from=console /console/node_modules/ ./console/node_modules/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# ---- runtime: no uv, no build tools, non-root ---------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# A fixed uid lets operators grant file and volume permissions predictably.
RUN groupadd --system --gid 10001 sentinel \
    && useradd --system --uid 10001 --gid sentinel --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin sentinel

WORKDIR /app
# Owned by root and read-only to the service user: the process cannot modify its own code.
COPY --from=builder /app /app

ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER sentinel
EXPOSE 8000

# /healthz only says the process is alive; readiness (Postgres, Redis) is /readyz, left to the
# orchestrator. Containers that run another subcommand should pass --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["sentinel"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
