"""Asking GitHub to redeliver what it failed to deliver while Sentinel was unreachable.

GitHub never redelivers on its own. Its delivery log (`GET /app/hook/deliveries`) keeps
about three days; every GUID there with no successful attempt, and not in our inbox, gets one
redelivery request (`POST /app/hook/deliveries/{id}/attempts`), at most a few times per GUID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import structlog
from sqlalchemy import text

from app.db import unscoped_session

if TYPE_CHECKING:
    from app.github.client import GitHubApp
    from app.resources import Resources

log = structlog.get_logger(__name__)

LOOKBACK = timedelta(days=3)
MAX_REDELIVERIES_PER_GUID = 3
PAGE_SIZE = 100
MAX_PAGES = 50


@dataclass
class _Attempts:
    newest_id: int
    succeeded: bool = False
    redeliveries: int = 0


@dataclass
class RecoveryReport:
    examined: int = 0
    requested: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool
    status_code: int


async def _list_recent(github_app: GitHubApp) -> list[_Item]:
    """The App's deliveries of the last few days, newest first (cursor pagination)."""
    apps = github_app.as_app.rest.apps
    cutoff = datetime.now(UTC) - LOOKBACK
    items: list[_Item] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        if cursor:
            response = await apps.async_list_webhook_deliveries(per_page=PAGE_SIZE, cursor=cursor)
        else:
            response = await apps.async_list_webhook_deliveries(per_page=PAGE_SIZE)
        page = [
            _Item(d.id, d.guid, d.delivered_at, bool(d.redelivery), int(d.status_code or 0))
            for d in response.parsed_data
        ]
        items.extend(page)
        cursor = _next_cursor(response.headers.get("link", ""))
        if not page or page[-1].delivered_at < cutoff or cursor is None:
            break
    return [item for item in items if item.delivered_at >= cutoff]


def _next_cursor(link_header: str) -> str | None:
    for part in link_header.split(","):
        if 'rel="next"' in part:
            url = part.split(";")[0].strip().strip("<>")
            return httpx.URL(url).params.get("cursor")
    return None


async def recover_deliveries(resources: Resources) -> RecoveryReport:
    report = RecoveryReport()
    github_app = resources.github_app
    if github_app is None:
        return report
    attempts: dict[str, _Attempts] = {}
    for item in await _list_recent(github_app):
        seen = attempts.setdefault(item.guid, _Attempts(newest_id=item.id))
        if 200 <= item.status_code < 300:
            seen.succeeded = True
        if item.redelivery:
            seen.redeliveries += 1
    report.examined = len(attempts)
    failed = [
        guid
        for guid, seen in attempts.items()
        if not seen.succeeded and seen.redeliveries < MAX_REDELIVERIES_PER_GUID
    ]
    if not failed:
        return report
    async with unscoped_session(resources.sessionmaker) as session:
        known = set(
            (
                await session.execute(
                    text("SELECT delivery_id FROM webhook_deliveries WHERE delivery_id = ANY(:g)"),
                    {"g": failed},
                )
            ).scalars()
        )
    apps = github_app.as_app.rest.apps
    for guid in failed:
        if guid in known:
            continue
        await apps.async_redeliver_webhook_delivery(attempts[guid].newest_id)
        report.requested.append(guid)
    if report.requested:
        log.info("recovery.redeliveries_requested", count=len(report.requested))
    return report
