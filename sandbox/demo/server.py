"""`python -m sandbox.demo serve-github`: the GitHub sandbox as a long-running process.

One HTTP server on 127.0.0.1 serves GitHub's REST API (the simulator of `sandbox.github`, with
`acme/payments` arranged and the App installed on `acme`) and, under `/_sandbox/`, the control
API (`control.py`). Webhooks go to `--webhook-url`, signed with the webhook secret:
`SENTINEL_GITHUB_WEBHOOK_SECRET` when set (GitHub is configured with Sentinel's secret), else
one the sandbox generates and keeps. Once listening, it writes `github.env` and `sandbox.json`
into the state directory (see `statefiles.py`); SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.demo import sample
from sandbox.demo.control import PREFIX, create_control_app
from sandbox.demo.statefiles import (
    PRIVATE_KEY_FILE,
    SandboxInfo,
    load_persisted,
    remove_live_files,
    save_persisted,
    write_live_files,
    write_private,
)
from sandbox.github import GitHubState, create_github_app
from sandbox.github.records import IssuedToken

log = logging.getLogger("sandbox.demo")

APP_ID = 1_000_042
APP_NAME = "Sentinel (sandbox)"


@dataclass(frozen=True)
class ServeOptions:
    state_dir: Path
    webhook_url: str
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (the URL goes into github.env)
    app_slug: str = "sentinel"


def _load_key(state: GitHubState, path: Path) -> None:
    """Reuse the App's key from an earlier run, or keep the fresh one `GitHubState` made."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError):
        write_private(path, state.private_key_pem)
        return
    if not isinstance(key, rsa.RSAPrivateKey):
        write_private(path, state.private_key_pem)
        return
    state.private_key = key
    state.public_key = key.public_key()
    state.private_key_pem = path.read_text()


def _token_out(token: IssuedToken) -> dict[str, Any]:
    return {
        "token": token.token,
        "installation_id": token.installation_id,
        "permissions": token.permissions,
        "repository_ids": token.repository_ids,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
    }


def save_tokens(state: GitHubState, state_dir: Path) -> None:
    """Keep the installation tokens still valid: GitHub honours a token for its hour whatever
    happens to the process, and Sentinel caches them (in Redis) across its own restarts."""
    now = state.now()
    valid = [_token_out(t) for t in state.issued_tokens if not t.revoked and t.expires_at > now]
    save_persisted(state_dir, {**load_persisted(state_dir), "installation_tokens": valid})


def _load_tokens(state: GitHubState, saved: Any) -> None:
    now = state.now()
    for item in saved if isinstance(saved, list) else []:
        try:
            token = IssuedToken(
                token=str(item["token"]),
                installation_id=int(item["installation_id"]),
                permissions=dict(item["permissions"]),
                repository_ids=item["repository_ids"],
                created_at=datetime.fromisoformat(item["created_at"]),
                expires_at=datetime.fromisoformat(item["expires_at"]),
            )
        except (KeyError, TypeError, ValueError):
            continue
        if token.expires_at > now and token.installation_id in state.installations:
            state.tokens[token.token] = token
            state.issued_tokens.append(token)


async def _keep_tokens(state: GitHubState, state_dir: Path) -> None:
    saved: tuple[int, int] = (len(state.issued_tokens), 0)
    while True:
        await asyncio.sleep(1)
        current = (len(state.issued_tokens), sum(t.revoked for t in state.issued_tokens))
        if current != saved:
            save_tokens(state, state_dir)
            saved = current


def build_state(options: ServeOptions) -> GitHubState:
    persisted = load_persisted(options.state_dir)
    secret = os.environ.get("SENTINEL_GITHUB_WEBHOOK_SECRET") or persisted.get("webhook_secret")
    if not secret:
        secret = secrets.token_hex(32)
        save_persisted(options.state_dir, {**persisted, "webhook_secret": secret})
    state = GitHubState(
        app_id=APP_ID,
        slug=options.app_slug,
        name=APP_NAME,
        webhook_secret=secret,
        webhook_url=options.webhook_url,
        owner_login=sample.OWNER,
    )
    _load_key(state, options.state_dir / PRIVATE_KEY_FILE)
    sample.arrange_repository(state)
    _load_tokens(state, persisted.get("installation_tokens"))
    return state


def route(github: ASGIApp, control: ASGIApp) -> ASGIApp:
    """`/_sandbox/...` to the control API, everything else to GitHub; one log line a request."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await github(scope, receive, send)
            return
        path = scope.get("path", "")
        target = control if path == PREFIX or path.startswith(PREFIX + "/") else github
        status = 0

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await target(scope, receive, send_logged)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            log.info("%s %s%s -> %s", scope["method"], path, f"?{query}" if query else "", status)

    return app


class _Server(uvicorn.Server):
    """uvicorn re-raises a captured SIGTERM after shutting down, killing the process before
    it can clean up; `serve_github` handles the signals itself instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SystemExit(f"sandbox: cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_github(options: ServeOptions) -> None:
    state_dir = options.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    remove_live_files(state_dir)
    state = build_state(replace(options, state_dir=state_dir))
    sock = _bind(options.host, options.port)
    port = int(sock.getsockname()[1])
    state.base_url = f"http://{options.host}:{port}"
    token = secrets.token_urlsafe(24)
    app = route(create_github_app(state), create_control_app(state, state_dir, token))
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # A shell starts background processes with SIGINT ignored, so that Ctrl-C reaches the
        # script alone, which then stops them with SIGTERM: keep it that way.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    keeper = asyncio.create_task(_keep_tokens(state, state_dir))
    try:
        while not server.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.02)
        info = SandboxInfo(
            api_url=state.base_url,
            control_url=state.base_url + PREFIX,
            control_token=token,
            app_id=state.app_id,
            app_slug=state.slug,
            private_key_path=str(state_dir / PRIVATE_KEY_FILE),
            webhook_secret=state.webhook_secret,
            webhook_url=options.webhook_url,
            owner=sample.OWNER,
            repository=sample.REPOSITORY,
            installation_id=sample.INSTALLATION_ID,
            pid=os.getpid(),
        )
        write_live_files(state_dir, info)
        log.info(
            "GitHub sandbox on %s: App %s (%s) installed on %s (installation %s), "
            "repository %s/%s; webhooks to %s",
            state.base_url,
            state.app_id,
            state.slug,
            sample.OWNER,
            sample.INSTALLATION_ID,
            sample.OWNER,
            sample.REPOSITORY,
            options.webhook_url,
        )
        await task
    finally:
        server.should_exit = True
        keeper.cancel()
        with contextlib.suppress(Exception):
            await task
        save_tokens(state, state_dir)
        remove_live_files(state_dir)
        log.info("GitHub sandbox stopped")


def configure_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
