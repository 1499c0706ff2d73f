"""`/v1/workspaces/{workspace}/tokens`, `/members`, `/invitations`, and the public
`POST /v1/invitations/accept`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import DBAPIError

from app.admin.access import invitations, members, tokens
from app.admin.access.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    MemberList,
    MemberOut,
    MemberPatch,
    TokenCreate,
    TokenCreated,
    TokenList,
)
from app.admin.deps import Managers, Readers, database_error
from app.admin.schemas import error_responses
from app.db import tenant_session
from app.resources import resources

router = APIRouter()
public_router = APIRouter(tags=["invitations"])


@router.get(
    "/tokens",
    response_model=TokenList,
    tags=["tokens"],
    summary="API tokens, masked (owners, admins)",
)
async def list_tokens(context: Managers) -> TokenList:
    """Name, role, prefix, last use and whether revoked; never the token."""
    return TokenList(tokens=await tokens.list_tokens(context))


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    tags=["tokens"],
    summary="Mint an API token (owners, admins)",
)
async def create_token(body: TokenCreate, context: Managers) -> TokenCreated:
    """The token is in the response only this once. An admin cannot mint an owner token."""
    return await tokens.create_token(context, body.name, body.role)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    tags=["tokens"],
    summary="Revoke an API token (owners, admins)",
)
async def revoke_token(token_id: uuid.UUID, context: Managers) -> Response:
    await tokens.revoke_token(context, token_id)
    return Response(status_code=204)


@router.get(
    "/members", response_model=MemberList, tags=["members"], summary="The team and their roles"
)
async def list_members(context: Readers) -> MemberList:
    return MemberList(members=await members.list_members(context))


@router.patch(
    "/members/{member_id}",
    response_model=MemberOut,
    tags=["members"],
    summary="Change a member's role (owners; admins for non-owners)",
    responses=error_responses(409),
)
async def change_role(member_id: uuid.UUID, body: MemberPatch, context: Managers) -> MemberOut:
    """The last owner cannot be demoted (409). Only owners grant or take the owner role."""
    return await members.change_role(context, member_id, body.role)


@router.delete(
    "/members/{member_id}",
    status_code=204,
    response_class=Response,
    tags=["members"],
    summary="Remove a member (owners; admins for non-owners)",
    responses=error_responses(409),
)
async def remove_member(member_id: uuid.UUID, context: Managers) -> Response:
    """The last owner cannot be removed (409)."""
    await members.remove_member(context, member_id)
    return Response(status_code=204)


@router.get(
    "/invitations",
    response_model=InvitationList,
    tags=["invitations"],
    summary="Invitations with their status (owners, admins)",
)
async def list_invitations(context: Managers) -> InvitationList:
    return InvitationList(invitations=await invitations.list_invitations(context))


@router.post(
    "/invitations",
    response_model=InvitationCreated,
    status_code=201,
    tags=["invitations"],
    summary="Invite someone by email (owners, admins)",
    responses=error_responses(409),
)
async def create_invitation(body: InvitationCreate, context: Managers) -> InvitationCreated:
    """The response carries the invitation token, once. Deliver it to the invitee, who
    accepts with `POST /v1/invitations/accept`."""
    return await invitations.create_invitation(context, body)


@router.delete(
    "/invitations/{invitation_id}",
    status_code=204,
    response_class=Response,
    tags=["invitations"],
    summary="Revoke an invitation (owners, admins)",
    responses=error_responses(409),
)
async def revoke_invitation(invitation_id: uuid.UUID, context: Managers) -> Response:
    await invitations.revoke_invitation(context, invitation_id)
    return Response(status_code=204)


@public_router.post(
    "/invitations/accept",
    response_model=InvitationAccepted,
    status_code=201,
    summary="Accept an invitation with its token (no API token needed)",
    responses=error_responses(400, 404, 409, 410, 422),
)
async def accept_invitation(body: InvitationAccept, request: Request) -> InvitationAccepted:
    """The invitation token is the credential. The invitee becomes a member with the invited
    role and receives an API token with that role (shown once). An accepted, revoked or
    expired invitation answers 410."""
    sessionmaker = resources(request).sessionmaker
    workspace_id = await invitations.invitation_workspace(sessionmaker, body.token)
    try:
        # The request's one tenant transaction, committed when the acceptance succeeds.
        async with tenant_session(sessionmaker, workspace_id) as session:
            return await invitations.accept_invitation(session, workspace_id, body)
    except DBAPIError as error:
        client_error = database_error(error)
        if client_error is None:
            raise
        raise client_error from None
