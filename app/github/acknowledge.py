"""Reacting to a maintainer's `@SLUG` command on GitHub, so they see it was heard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast, get_args

import structlog
from githubkit.exception import RequestFailed

from app.db import unscoped_session
from app.models import WebhookDelivery

if TYPE_CHECKING:
    from app.resources import Resources

log = structlog.get_logger(__name__)


class TransientGitHubError(Exception):
    """GitHub answered 5xx or a rate limit: worth trying again later."""


ReactionContent = Literal["+1", "eyes"]
REACTION_CONTENTS: frozenset[str] = frozenset(get_args(ReactionContent))


async def acknowledge_command(resources: Resources, inbox_id: int, content: str) -> bool:
    """Add `content` (a reaction) to the comment of delivery `inbox_id`. True when done."""
    if content not in REACTION_CONTENTS:
        raise ValueError(f"not a reaction Sentinel uses: {content!r}")
    if resources.github_app is None:
        log.info("acknowledge.skipped", reason="GitHub App credentials are not configured")
        return False
    async with unscoped_session(resources.sessionmaker) as session:
        delivery = await session.get(WebhookDelivery, inbox_id)
        if delivery is None:
            return False
        payload = delivery.payload
    owner, _, name = payload["repository"]["full_name"].partition("/")
    installation_id = int(payload["installation"]["id"])
    github = resources.github_app.for_installation(installation_id)
    try:
        await github.rest.reactions.async_create_for_issue_comment(
            owner, name, int(payload["comment"]["id"]), content=cast(ReactionContent, content)
        )
    except RequestFailed as error:
        status = error.response.status_code
        if status == 401:
            # The cached installation token was revoked: mint a new one on the next try.
            await resources.github_app.forget_installation_token(installation_id)
            raise TransientGitHubError("GitHub refused the installation token (401)") from None
        if status >= 500 or status in (403, 429):
            raise TransientGitHubError(f"GitHub answered {status}") from None
        log.warning("acknowledge.rejected", status=status)
        return False
    return True
