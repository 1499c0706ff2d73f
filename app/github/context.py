"""What an event handler gets (one delivery, one transaction) and what it returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.github.client import GitHubApp
from app.models import Installation
from app.queue import JobBuffer


@dataclass(frozen=True)
class Delivery:
    inbox_id: int
    guid: str
    event: str
    action: str | None
    payload: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.event}.{self.action}" if self.action else self.event


@dataclass
class IntakeContext:
    """One delivery being processed inside one transaction.

    For workspace-scoped events the session is a tenant session of `workspace_id`; for
    installation events it is the named PROVISIONING system context.
    """

    session: AsyncSession
    settings: Settings
    delivery: Delivery
    jobs: JobBuffer
    # The process's GitHub client (None where no App credentials are configured).
    github_app: GitHubApp | None = None
    installation: Installation | None = None

    @property
    def known_installation(self) -> Installation:
        if self.installation is None:
            raise RuntimeError("this delivery is not tied to an installation")
        return self.installation

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.known_installation.workspace_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.delivery.payload


@dataclass(frozen=True)
class Outcome:
    """What processing did with a delivery, in words an admin can read."""

    handled: bool
    reason: str

    @classmethod
    def done(cls, reason: str) -> Outcome:
        return cls(True, reason)

    @classmethod
    def ignored(cls, reason: str) -> Outcome:
        return cls(False, reason)


class RetryLater(Exception):
    """Processing cannot finish now but may later (e.g. the installation is not known yet)."""
