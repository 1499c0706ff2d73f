"""Events Sentinel acknowledges without acting on GitHub's side."""

from __future__ import annotations

from app.github.context import IntakeContext, Outcome


async def ping(ctx: IntakeContext) -> Outcome:
    hook_id = ctx.payload.get("hook_id")
    return Outcome.done(f"ping from hook {hook_id}: {ctx.payload.get('zen', '')}".strip())


async def github_app_authorization_revoked(ctx: IntakeContext) -> Outcome:
    # Sentinel holds no user-to-server tokens, so there is nothing to revoke on our side.
    login = (ctx.payload.get("sender") or {}).get("login", "?")
    return Outcome.done(f"@{login} revoked their authorization of the App; no user tokens held")
