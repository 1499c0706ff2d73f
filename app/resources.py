"""What a process builds once and its requests and jobs borrow: engine, sessions, queue,
GitHub App client, the model calls' connection pool, run locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from arq import ArqRedis
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.direct_db import DirectDatabase
from app.github.client import GitHubApp, app_is_configured
from app.queue import create_queue
from app.review.lock import RunLocks
from reviewers.providers.transport import SharedTransport


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis
    # None where the GitHub App's credentials are not configured.
    github_app: GitHubApp | None
    # One connection pool and TLS context for every model call of the process.
    model_transport: SharedTransport
    # The advisory locks of the runs this process executes, all on one connection (opened on
    # first use, so a process that runs no reviews never opens it).
    run_locks: RunLocks = field(init=False)
    # Plain SQL for the review job's hot transactions (a psycopg pool opened on first use).
    direct: DirectDatabase = field(init=False)

    def __post_init__(self) -> None:
        self.run_locks = RunLocks(self.engine)
        self.direct = DirectDatabase(
            self.settings.runtime_database_url, size=self.settings.database_pool_size
        )

    @classmethod
    async def build(cls, settings: Settings, *, pool_pre_ping: bool = True) -> Resources:
        engine = create_engine(settings, pool_pre_ping=pool_pre_ping)
        queue = create_queue(settings)
        github_app = GitHubApp(settings, queue) if app_is_configured(settings) else None
        # Model calls reach public addresses only, checked at each connection (DNS rebinding).
        model_transport = SharedTransport(allow_private=settings.allow_private_provider_urls)
        return cls(
            settings, engine, create_sessionmaker(engine), queue, github_app, model_transport
        )

    @cached_property
    def autocommit_engine(self) -> AsyncEngine:
        """The same pool, for single statements that commit on their own (the inbox)."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    async def close(self) -> None:
        if self.github_app is not None:
            await self.github_app.aclose()
        await self.model_transport.close_for_good()
        await self.queue.aclose()
        await self.run_locks.close()
        await self.direct.close()
        await self.engine.dispose()


def resources(request: Request) -> Resources:
    return request.app.state.resources
