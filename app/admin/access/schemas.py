"""Wire shapes of tokens, members and invitations. Secrets appear once, in `...Created`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.admin.schemas import StrictBody
from app.models.identity import Role

TokenName = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Email = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=320, strip_whitespace=True, to_lower=True,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    ),
]  # fmt: skip
GitHubLogin = Annotated[
    str, StringConstraints(min_length=1, max_length=39, pattern=r"^[A-Za-z0-9](?:-?[A-Za-z0-9])*$")
]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class TokenCreate(StrictBody):
    name: TokenName = Field(description="What the token is for, e.g. `billing export`")
    role: Role


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    prefix: str = Field(description="The token's first characters, to recognise it")
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute")
    revoked: bool
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. Shown only this once.")


class TokenList(BaseModel):
    tokens: list[TokenOut]


class MemberOut(BaseModel):
    id: uuid.UUID = Field(description="The membership's id (used in member paths)")
    user_id: uuid.UUID
    name: str | None
    github_login: str | None
    email: str | None
    role: Role
    created_at: datetime


class MemberList(BaseModel):
    members: list[MemberOut]


class MemberPatch(StrictBody):
    role: Role


InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]


class InvitationCreate(StrictBody):
    email: Email
    role: Role
    expires_in_days: int = Field(7, ge=1, le=30, description="How long the invitation is valid")


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    status: InvitationStatus
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class InvitationCreated(InvitationOut):
    token: str = Field(
        description="The invitation token. Shown only this once; send it to "
        "the invitee, who accepts with `POST /v1/invitations/accept`."
    )


class InvitationList(BaseModel):
    invitations: list[InvitationOut]


class InvitationAccept(StrictBody):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: PersonName | None = Field(None, description="The invitee's name")
    github_login: GitHubLogin | None = Field(None, description="The invitee's GitHub login")


class WorkspaceRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class InvitationAccepted(BaseModel):
    workspace: WorkspaceRef
    member: MemberOut
    token: str = Field(
        description="An API token with the invited role, for the new member. Shown only this once."
    )
