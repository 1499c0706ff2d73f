"""Who is calling: the App (a JWT it signed), one of its installations (a `ghs_` token), or
nobody. GitHub's rules for each, with GitHub's wording when a credential is refused."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from sandbox.github.records import Installation, IssuedToken, Repository
from sandbox.github.state import GitHubState

# GitHub refuses an App JWT that lives longer than this...
MAX_JWT_LIFETIME = timedelta(minutes=10)
# ...and tolerates this much disagreement between the App's clock and its own.
CLOCK_SKEW = timedelta(seconds=60)

JWT_NOT_DECODED = "A JSON web token could not be decoded"
JWT_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at "
    "which the assertion expires"
)
JWT_TOO_LONG = "'Expiration time' claim ('exp') is too far in the future"
JWT_IAT_INVALID = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)
BAD_CREDENTIALS = "Bad credentials"
SUSPENDED = "This installation has been suspended"
NOT_IN_INSTALLATION = (
    "There is at least one repository that does not exist or is not accessible to the parent "
    "installation."
)
NOT_GRANTED = "The permissions requested are not granted to this installation."
LEVELS = {"read": 1, "write": 2, "admin": 3}


@dataclass(frozen=True)
class Caller:
    kind: Literal["app", "installation", "user", "anonymous"]
    client: str
    token: IssuedToken | None = None
    # The user behind a user-to-server token (`ghu_`), from the App's OAuth flow.
    login: str | None = None

    @property
    def rate_limit_key(self) -> str:
        if self.token is not None:
            return f"installation:{self.token.installation_id}"
        if self.kind == "user":
            return f"user:{self.login}"
        return "app" if self.kind == "app" else f"anonymous:{self.client}"


class AuthError(Exception):
    """A credential GitHub refuses: answered with `status` and `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app_jwt(
    state: GitHubState,
    *,
    issued_at: datetime | None = None,
    lifetime: timedelta = timedelta(minutes=9),
    issuer: str | int | None = None,
) -> str:
    """A JWT as an App would sign it, for tests that call the fake by hand. Signed at the JWS
    level because PyJWT's encoder refuses a numeric `iss`, which GitHub accepts."""
    iat = int((issued_at or state.now() - timedelta(seconds=30)).timestamp())
    claims = {
        "iat": iat,
        "exp": iat + int(lifetime.total_seconds()),
        "iss": str(state.app_id) if issuer is None else issuer,
    }
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jwt.api_jws.encode(payload, state.private_key, algorithm="RS256")


def verify_app_jwt(state: GitHubState, token: str) -> None:
    """GitHub's checks on an App JWT: RS256 by the App's key, `iss` the App id (GitHub takes
    a number or a string), `iat` not in the future, `exp` in the future and at most ten
    minutes out. Raises `AuthError` with the message GitHub gives for each failure."""
    try:
        # The signature only: PyJWT's claim checks would use the host's clock rather than
        # the fake's, and refuse the numeric `iss` GitHub accepts.
        claims = json.loads(jwt.api_jws.decode(token, state.public_key, algorithms=["RS256"]))
    except (jwt.PyJWTError, ValueError) as error:
        raise AuthError(401, JWT_NOT_DECODED) from error
    if not isinstance(claims, dict) or str(claims.get("iss")) != str(state.app_id):
        raise AuthError(401, JWT_NOT_DECODED)
    state.app_jwt_claims.append(dict(claims))  # what the App sent, for tests to inspect
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise AuthError(401, JWT_IAT_INVALID)
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise AuthError(401, JWT_EXPIRED)
    now = state.now().timestamp()
    skew = CLOCK_SKEW.total_seconds()
    if iat > now + skew:
        raise AuthError(401, JWT_IAT_INVALID)
    if exp <= now:
        raise AuthError(401, JWT_EXPIRED)
    too_long = exp - iat > MAX_JWT_LIFETIME.total_seconds()
    if too_long or exp > now + MAX_JWT_LIFETIME.total_seconds() + skew:
        raise AuthError(401, JWT_TOO_LONG)


def identify(state: GitHubState, authorization: str | None, client: str) -> Caller:
    """The caller behind an Authorization header; `AuthError` for a credential GitHub would
    refuse outright (an unknown, expired or revoked token, a bad JWT)."""
    if not authorization:
        return Caller("anonymous", client)
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() not in {"token", "bearer"} or not credential:
        raise AuthError(401, BAD_CREDENTIALS)
    if credential.startswith("ghs_"):
        issued = state.tokens.get(credential)
        if issued is None or issued.revoked or issued.expires_at <= state.now():
            raise AuthError(401, BAD_CREDENTIALS)
        if state.installations[issued.installation_id].suspended_at is not None:
            raise AuthError(403, SUSPENDED)
        return Caller("installation", client, issued)
    if credential.startswith("ghu_"):
        login = state.user_tokens.get(credential)
        if login is None:
            raise AuthError(401, BAD_CREDENTIALS)
        return Caller("user", client, login=login)
    if credential.count(".") == 2:
        verify_app_jwt(state, credential)
        return Caller("app", client)
    raise AuthError(401, BAD_CREDENTIALS)


def grant(
    state: GitHubState,
    installation: Installation,
    body: Mapping[str, Any],
) -> IssuedToken:
    """Mint an installation token narrowed as the request body asks. GitHub refuses (422) a
    repository outside the installation and a permission above what it was granted."""
    repository_ids: list[int] | None = None
    names, ids = body.get("repositories"), body.get("repository_ids")
    if names is not None or ids is not None:
        own = state.installation_repositories(installation.id)
        chosen: list[Repository] = []
        for name in names or []:
            match = next((r for r in own if r.name.lower() == str(name).lower()), None)
            if match is None:
                raise AuthError(422, NOT_IN_INSTALLATION)
            chosen.append(match)
        for repo_id in ids or []:
            match = next((r for r in own if r.id == repo_id), None)
            if match is None:
                raise AuthError(422, NOT_IN_INSTALLATION)
            chosen.append(match)
        repository_ids = sorted({r.id for r in chosen})
    requested = body.get("permissions")
    permissions = dict(installation.permissions)
    if requested:
        for name, level in requested.items():
            granted = installation.permissions.get(name)
            if granted is None or LEVELS.get(level, 99) > LEVELS[granted]:
                raise AuthError(422, NOT_GRANTED)
        permissions = {**dict(requested), "metadata": installation.permissions["metadata"]}
    return state.issue_token(installation, permissions, repository_ids)


def can_see(state: GitHubState, caller: Caller, repository: Repository) -> bool:
    """Whether the caller may know the repository exists. GitHub answers 404, not 403, for a
    private repository the caller cannot see, so as not to confirm that it exists."""
    return not repository.private or in_scope(state, caller, repository)


def in_scope(state: GitHubState, caller: Caller, repository: Repository) -> bool:
    """Whether the repository is one the caller's installation token was granted."""
    token = caller.token
    if token is None or repository.installation_id != token.installation_id:
        return False
    return token.repository_ids is None or repository.id in token.repository_ids


def has_permission(caller: Caller, permission: str, level: str) -> bool:
    if caller.token is None:
        return False
    granted = caller.token.permissions.get(permission)
    return granted is not None and LEVELS[granted] >= LEVELS[level]
