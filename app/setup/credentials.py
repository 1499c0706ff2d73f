"""Writing a new App's credentials: its private key and the settings Sentinel needs, each in
a file only this user can read, in a directory only this user can enter.

Files are created, never replaced: `/setup` is reachable by whoever reaches Sentinel, and
overwriting the key a running deployment reads would break it. To register again, the
operator moves the old files away.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from app.setup.conversion import NewApp
from app.setup.errors import SetupError

PEM_NAME = "github-app.pem"
ENV_NAME = "github-app.env"
GITHUB_COM_API = "https://api.github.com"
# Sentinel's own rule for SENTINEL_APP_SLUG.
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")


@dataclass(frozen=True)
class Written:
    directory: Path
    pem_path: Path
    env_path: Path
    # The settings that are safe to show; the file also holds the webhook secret.
    shown: dict[str, str]


def paths(directory: Path) -> tuple[Path, Path]:
    base = directory.expanduser().resolve()
    return base / PEM_NAME, base / ENV_NAME


def refuse_if_written(directory: Path) -> None:
    existing = [path for path in paths(directory) if path.exists()]
    if existing:
        names = " and ".join(str(path) for path in existing)
        raise SetupError(
            409,
            "Credentials were already written",
            f"{names} already exist: an App was registered from this page before. Restart "
            "Sentinel with them, or move them away to register another App.",
        )


def prepare(directory: Path) -> None:
    """Create the directory (0700) and make sure it is writable before GitHub's code is
    spent: once exchanged, the private key cannot be fetched again."""
    try:
        directory.expanduser().mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(directory, error.strerror) from None
    if not os.access(directory.expanduser(), os.W_OK | os.X_OK):
        raise _unwritable(directory, "permission denied")


def _unwritable(directory: Path, reason: str | None) -> SetupError:
    return SetupError(
        500,
        "The output directory is not writable",
        f"Sentinel cannot write to {directory} ({reason}). Point SENTINEL_SETUP_OUTPUT_DIR at a "
        "directory this process can write to, restart it, and reload this page: the code "
        "stays valid for an hour.",
    )


def env_file(app: NewApp, pem_path: Path, api_url: str) -> tuple[str, dict[str, str]]:
    """The env file's text and the settings in it that may be shown."""
    if not SLUG.match(app.slug):
        raise SetupError(502, "Unexpected answer from GitHub", "GitHub returned an invalid slug.")
    shown = {
        "SENTINEL_GITHUB_APP_ID": str(app.id),
        "SENTINEL_GITHUB_PRIVATE_KEY_PATH": str(pem_path),
        "SENTINEL_APP_SLUG": app.slug,
    }
    if api_url.rstrip("/") != GITHUB_COM_API:
        shown["SENTINEL_GITHUB_API_URL"] = api_url
    settings = dict(shown)
    if app.webhook_secret:
        settings["SENTINEL_GITHUB_WEBHOOK_SECRET"] = app.webhook_secret
    if app.client_id and app.client_secret:
        settings["SENTINEL_GITHUB_CLIENT_ID"] = app.client_id
        settings["SENTINEL_GITHUB_CLIENT_SECRET"] = app.client_secret
    lines = [
        f"# The GitHub App {_one_line(app.name)} ({_one_line(app.html_url)}), registered",
        "# from Sentinel's setup page. Load into Sentinel's environment and restart it,",
        f"# e.g. set -a; . {shlex.quote(str(pem_path.with_name(ENV_NAME)))}; set +a",
    ]
    # Quoted only where a shell needs it, so `docker --env-file` reads the same values.
    lines += [f"{name}={_value(value)}" for name, value in settings.items()]
    return "\n".join(lines) + "\n", shown


def write(directory: Path, app: NewApp, api_url: str) -> Written:
    pem_path, env_path = paths(directory)
    text, shown = env_file(app, pem_path, api_url)
    try:
        _create_private(pem_path, app.pem if app.pem.endswith("\n") else app.pem + "\n")
        _create_private(env_path, text)
    except OSError as error:
        raise SetupError(
            500,
            "The credentials could not be written",
            f"GitHub created the App {app.name} but writing to {directory} failed "
            f"({error.strerror}). Its private key cannot be downloaded again: on the App's "
            "page, generate a new private key and webhook secret, or delete the App and "
            "start again.",
            ("The App on GitHub", app.html_url),
        ) from None
    return Written(pem_path.parent, pem_path, env_path, shown)


def _create_private(path: Path, text: str) -> None:
    # O_EXCL: never replace a file (see the module docstring); 0600 from the first byte.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # whatever the umask
        handle.write(text)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _value(value: str) -> str:
    # A line break would end the setting early; better no file than a silently cut secret.
    if any(ch in value for ch in "\r\n\0"):
        raise SetupError(
            502, "Unexpected answer from GitHub", "GitHub returned a value with a line break."
        )
    return shlex.quote(value)
