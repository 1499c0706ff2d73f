"""The files `serve-github` keeps in its state directory (`.data/sandbox/` for the Quickstart).

Kept across restarts, so a restarted sandbox is the same GitHub App to Sentinel:
- `app.pem`: the App's private key (PKCS#1, as GitHub hands it out);
- `state.json`: the webhook secret when the sandbox chose it, the next pull request number
  (each demo run opens a new pull request: Sentinel never repeats a finding on one), and the
  installation tokens still valid (Sentinel caches them across restarts, as GitHub honours
  them for an hour).

Written once the server listens, removed when it stops:
- `github.env`: what Sentinel needs to talk to this GitHub (`SENTINEL_GITHUB_APP_ID`,
  `SENTINEL_GITHUB_PRIVATE_KEY_PATH`, `SENTINEL_GITHUB_WEBHOOK_SECRET`,
  `SENTINEL_GITHUB_API_URL`, `SENTINEL_APP_SLUG`), shell-quoted for `source`;
- `sandbox.json`: the same plus the control API's URL and bearer token, for `run`.

Every file is mode 600: they hold a private key, a webhook secret and a control token.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PRIVATE_KEY_FILE = "app.pem"
PERSISTED_FILE = "state.json"
ENV_FILE = "github.env"
INFO_FILE = "sandbox.json"
LIVE_FILES = (ENV_FILE, INFO_FILE)


@dataclass(frozen=True)
class SandboxInfo:
    """Where the running sandbox is and what Sentinel needs to use it."""

    api_url: str  # the GitHub REST base URL (SENTINEL_GITHUB_API_URL)
    control_url: str  # the control API's prefix, `<api_url>/_sandbox`
    control_token: str
    app_id: int
    app_slug: str
    private_key_path: str
    webhook_secret: str
    webhook_url: str
    owner: str
    repository: str
    installation_id: int
    pid: int

    def sentinel_environment(self) -> dict[str, str]:
        return {
            "SENTINEL_GITHUB_APP_ID": str(self.app_id),
            "SENTINEL_GITHUB_PRIVATE_KEY_PATH": self.private_key_path,
            "SENTINEL_GITHUB_WEBHOOK_SECRET": self.webhook_secret,
            "SENTINEL_GITHUB_API_URL": self.api_url,
            "SENTINEL_APP_SLUG": self.app_slug,
        }


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def load_persisted(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((state_dir / PERSISTED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_persisted(state_dir: Path, data: dict[str, Any]) -> None:
    write_private(state_dir / PERSISTED_FILE, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_live_files(state_dir: Path, info: SandboxInfo) -> None:
    env = "".join(
        f"{name}={shlex.quote(value)}\n" for name, value in info.sentinel_environment().items()
    )
    write_private(state_dir / INFO_FILE, json.dumps(asdict(info), indent=2) + "\n")
    # Last: the Quickstart waits for this file to know the sandbox is up.
    header = "# written by `python -m sandbox.demo serve-github`; gone when it stops\n"
    write_private(state_dir / ENV_FILE, header + env)


def remove_live_files(state_dir: Path) -> None:
    for name in LIVE_FILES:
        (state_dir / name).unlink(missing_ok=True)


def read_info(state_dir: Path) -> SandboxInfo:
    """The running sandbox's details; FileNotFoundError when none is running there."""
    data = json.loads((state_dir / INFO_FILE).read_text())
    return SandboxInfo(**data)
