"""Settings that make the service the GitHub App of a running GitHub simulator."""

from __future__ import annotations

from pydantic import SecretStr

from app.config import Settings
from sandbox.github import GitHubState


def with_simulated_app(settings: Settings, github: GitHubState) -> Settings:
    """`settings` acting as `github`'s App, at its address (once `serve_github` runs it)."""
    return settings.model_copy(
        update={
            "github_app_id": github.app_id,
            "github_private_key": SecretStr(github.private_key_pem),
            "github_api_url": github.base_url,
        }
    )
