"""JSON API of an organization's members and invitations (rules in members.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from service.accounts.members import Member, MemberService, invitation_state
from service.accounts.models import Invitation
from service.accounts.schemas import UserOut, user_out
from service.identity.principal import Principal
from service.lib.clock import now, today
from service.lib.deps import provide_service
from service.registry.schemas import OrganizationOut, organization_out


class MemberOut(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    joined_at: datetime | None


class InvitationIn(msgspec.Struct, kw_only=True):
    email: str
    role: str = "member"


class InvitationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    role: str
    expires_at: datetime
    sent_at: datetime
    status: str  # open | expired


class RoleIn(msgspec.Struct, kw_only=True):
    role: str


class AcceptIn(msgspec.Struct, kw_only=True):
    token: str
    name: str = ""
    password: str


class AcceptOut(msgspec.Struct, kw_only=True):
    user: UserOut
    organization: OrganizationOut


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        user_id=member.user_id, email=member.email, name=member.name, role=member.role, joined_at=member.joined_at
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        sent_at=invitation.sent_at,
        status=invitation_state(invitation, now()),
    )


class MembersController(Controller):
    path = "/api/v1/organizations/{organization_id:uuid}"
    tags = ["members"]
    dependencies = {"members": provide_service(MemberService)}

    @get("/members")
    async def list_members(
        self, organization_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService],
    ) -> list[MemberOut]:  # fmt: skip
        """The organization's members (its members and staff may list them)."""
        return [member_out(m) for m in await members.members(viewer, organization_id)]

    @patch("/members/{user_id:uuid}")
    async def change_role(
        self, organization_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID], data: JSONBody[RoleIn],
        viewer: NamedDependency[Principal], members: NamedDependency[MemberService],
    ) -> MemberOut:  # fmt: skip
        """Make a member admin or member; 409 when it would leave the organization without an admin."""
        return member_out(await members.change_role(viewer, organization_id, user_id, data.role))

    @delete("/members/{user_id:uuid}", status_code=204)
    async def remove_member(
        self, organization_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal], members: NamedDependency[MemberService],
    ) -> None:  # fmt: skip
        """Remove a member: their sessions and tokens end at once; 409 for the last admin."""
        await members.remove(viewer, organization_id, user_id)

    @post("/invitations", status_code=201)
    async def invite(
        self, organization_id: FromPath[uuid.UUID], data: JSONBody[InvitationIn],
        viewer: NamedDependency[Principal], members: NamedDependency[MemberService],
    ) -> InvitationOut:  # fmt: skip
        """Invite a colleague by email (mails a one-time link valid 7 days); 409 if the email belongs to
        another organization or already has an open invitation."""
        return invitation_out(await members.invite(viewer, organization_id, data.email, data.role))

    @get("/invitations")
    async def list_invitations(
        self, organization_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService],
    ) -> list[InvitationOut]:  # fmt: skip
        """Invitations neither accepted nor revoked (`status` open or expired)."""
        return [invitation_out(i) for i in await members.invitations(viewer, organization_id)]


class InvitationsController(Controller):
    path = "/api/v1/invitations"
    tags = ["members"]
    dependencies = {"members": provide_service(MemberService)}

    @delete("/{invitation_id:uuid}", status_code=204)
    async def revoke(
        self, invitation_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService],
    ) -> None:  # fmt: skip
        """Revoke an invitation; its link answers 410 from now on."""
        await members.revoke(viewer, invitation_id)

    @post("/{invitation_id:uuid}/resend", status_code=200)
    async def resend(
        self, invitation_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService],
    ) -> InvitationOut:  # fmt: skip
        """Mail the invitation again with a new link (the old one stops working) valid 7 more days."""
        return invitation_out(await members.resend(viewer, invitation_id))

    @post("/accept", status_code=201)
    async def accept(self, data: JSONBody[AcceptIn], members: NamedDependency[MemberService]) -> AcceptOut:
        """Join with the mailed token: a new account (name, password) or an existing account without an
        organization (its password). 410 when the invitation was used, revoked or has expired."""
        user, org = await members.accept(data.token, data.name, data.password)
        return AcceptOut(user=user_out(user), organization=organization_out(org, today=today()))


ROUTES = [MembersController, InvitationsController]
