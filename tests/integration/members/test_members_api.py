"""Issue 15 items 1–3 over the API: members and roles, invitations, removal, audit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from service.accounts.members import MemberService
from service.accounts.models import AuthToken, Invitation, User
from service.accounts.service import AccountService
from service.identity.models import AuditEvent
from service.lib import clock
from service.lib.errors import DomainError
from tests.factories import PASSWORD, agency_payload, create_staff, firm_payload, login, register, verified_agency
from tests.integration.members.helpers import accept, colleague_email, invite, joined, mailed_token


async def roles(client, account, org=None):
    response = await client.get(
        f"/api/v1/organizations/{org or account.organization_id}/members", headers=account.headers
    )
    assert response.status_code == 200, response.text
    return {m["email"]: m["role"] for m in response.json()}


class TestRoles:
    async def test_the_registering_user_is_the_first_admin(self, client):
        admin = await register(client, agency_payload())
        assert await roles(client, admin) == {admin.email: "admin"}

    async def test_the_last_admin_cannot_be_demoted_or_removed(self, client):
        admin = await register(client, agency_payload())
        path = f"/api/v1/organizations/{admin.organization_id}/members/{admin.user_id}"
        demote = await client.patch(path, json={"role": "member"}, headers=admin.headers)
        assert demote.status_code == 409, demote.text
        assert demote.json()["errors"][0]["field"] == "role"
        remove = await client.delete(path, headers=admin.headers)
        assert remove.status_code == 409
        assert await roles(client, admin) == {admin.email: "admin"}

    async def test_a_bad_role_is_a_422_naming_the_field(self, client):
        admin = await register(client, agency_payload())
        path = f"/api/v1/organizations/{admin.organization_id}/members/{admin.user_id}"
        response = await client.patch(path, json={"role": "owner"}, headers=admin.headers)
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "role", "message": "must be admin or member"}]

    async def test_two_admins_removing_each_other_at_once_one_wins(
        self, client, sessionmaker, settings, smtp, smtp_settings
    ):
        first = await register(client, agency_payload())
        second = await joined(client, sessionmaker, smtp_settings, smtp, first, role="admin")
        org = uuid.UUID(first.organization_id)

        async def remove(actor, target):
            async with sessionmaker() as session:
                principal = await AccountService(session, settings.auth).principal_for_token(actor.token)
                try:
                    await MemberService(session).remove(principal, org, uuid.UUID(target.user_id))
                    await asyncio.sleep(0.05)  # hold the lock while the other waits for it
                    await session.commit()
                    return "removed"
                except DomainError as exc:
                    await session.rollback()
                    return exc.status

        for _ in range(3):
            outcomes = await asyncio.gather(remove(first, second), remove(second, first))
            assert sorted(map(str, outcomes)) in (["403", "removed"], ["404", "removed"]), outcomes
            async with sessionmaker() as session:
                admins = (await session.scalars(select(User).where(User.organization_id == org))).all()
            assert len(admins) == 1 and admins[0].member_role == "admin"
            remaining = first if str(admins[0].id) == first.user_id else second
            if _ == 2:
                break
            # bring the other back as an admin and race again
            second_round = await joined(client, sessionmaker, smtp_settings, smtp, remaining, role="admin")
            first, second = remaining, second_round

    async def test_demoting_each_other_at_once_keeps_an_admin(
        self, client, sessionmaker, settings, smtp, smtp_settings
    ):
        first = await register(client, agency_payload())
        second = await joined(client, sessionmaker, smtp_settings, smtp, first, role="admin")
        org = uuid.UUID(first.organization_id)

        async def demote(actor, target):
            async with sessionmaker() as session:
                principal = await AccountService(session, settings.auth).principal_for_token(actor.token)
                try:
                    await MemberService(session).change_role(principal, org, uuid.UUID(target.user_id), "member")
                    await asyncio.sleep(0.05)
                    await session.commit()
                    return "demoted"
                except DomainError as exc:
                    await session.rollback()
                    return exc.status

        outcomes = await asyncio.gather(demote(first, second), demote(second, first))
        assert sorted(map(str, outcomes)) == ["403", "demoted"], outcomes
        assert sorted((await roles(client, first if outcomes[0] == "demoted" else second)).values()) == [
            "admin",
            "member",
        ]

    async def test_promote_then_the_first_admin_may_step_down(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        colleague = await joined(client, sessionmaker, smtp_settings, smtp, admin)
        base = f"/api/v1/organizations/{admin.organization_id}/members"
        promoted = await client.patch(f"{base}/{colleague.user_id}", json={"role": "admin"}, headers=admin.headers)
        assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
        stepped = await client.patch(f"{base}/{admin.user_id}", json={"role": "member"}, headers=admin.headers)
        assert stepped.status_code == 200
        # now a member: managing is refused
        again = await client.patch(f"{base}/{colleague.user_id}", json={"role": "member"}, headers=admin.headers)
        assert again.status_code == 403


class TestInvitations:
    async def test_invite_mail_accept_sign_in_and_see_the_agencys_needs(
        self, client, sessionmaker, settings, smtp, smtp_settings
    ):
        staff = await create_staff(client, sessionmaker, settings)
        admin = await verified_agency(client, staff)
        need = await client.post(
            "/api/v1/needs",
            json={
                "title": "청사 방역 소독", "description": "정기 방역", "category_codes": ["CLN-DIS"],
                "budget_krw": 30_000_000, "needed_by": str(clock.today() + timedelta(days=30)),
            },
            headers=admin.headers,
        )  # fmt: skip
        assert need.status_code == 201, need.text
        email = colleague_email()
        created = await invite(client, admin, email)
        assert created["role"] == "member" and created["email"] == email
        token = await mailed_token(sessionmaker, smtp_settings, smtp, email)
        [message] = smtp.inbox.to(email)
        assert "초대" in message["Subject"]
        async with sessionmaker() as session:  # only the hash is stored
            stored = await session.scalar(select(Invitation).where(Invitation.email == email))
            assert stored is not None and token.encode() not in stored.token_hash
        response = await accept(client, token, name="김동료")
        assert response.status_code == 201, response.text
        assert response.json()["organization"]["id"] == admin.organization_id
        colleague_token = await login(client, email)
        needs = await client.get("/api/v1/needs", headers={"Authorization": f"Bearer {colleague_token}"})
        assert [n["id"] for n in needs.json()["items"]] == [need.json()["id"]]
        assert await roles(client, admin) == {admin.email: "admin", email: "member"}
        again = await accept(client, token)
        assert again.status_code == 410

    async def test_revoked_expired_and_resent_links(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        revoked_email, expired_email, resent_email = colleague_email(), colleague_email(), colleague_email()
        revoked = await invite(client, admin, revoked_email)
        await invite(client, admin, expired_email)
        resent = await invite(client, admin, resent_email)
        revoked_token = await mailed_token(sessionmaker, smtp_settings, smtp, revoked_email)
        expired_token = await mailed_token(sessionmaker, smtp_settings, smtp, expired_email)
        old_token = await mailed_token(sessionmaker, smtp_settings, smtp, resent_email)

        gone = await client.delete(f"/api/v1/invitations/{revoked['id']}", headers=admin.headers)
        assert gone.status_code == 204
        assert (await accept(client, revoked_token)).status_code == 410
        assert (await client.delete(f"/api/v1/invitations/{revoked['id']}", headers=admin.headers)).status_code == 410

        clock.set_now(clock.now() + timedelta(days=7, minutes=1))
        admin.token = await login(client, admin.email)  # the first token expired meanwhile
        assert (await accept(client, expired_token)).status_code == 410
        listed = await client.get(f"/api/v1/organizations/{admin.organization_id}/invitations", headers=admin.headers)
        assert {i["email"]: i["status"] for i in listed.json()} == {expired_email: "expired", resent_email: "expired"}

        again = await client.post(f"/api/v1/invitations/{resent['id']}/resend", headers=admin.headers)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "open"
        new_token = await mailed_token(sessionmaker, smtp_settings, smtp, resent_email)
        assert len(smtp.inbox.to(resent_email)) == 2 and new_token != old_token
        assert (await accept(client, old_token)).status_code == 404
        assert (await accept(client, new_token)).status_code == 201  # resent: 7 days from the resend

    async def test_refused_emails_name_the_reason(self, client, sessionmaker, settings):
        admin = await register(client, agency_payload())
        other = await register(client, firm_payload())
        staff = await create_staff(client, sessionmaker, settings)
        path = f"/api/v1/organizations/{admin.organization_id}/invitations"
        cases = {
            other.email: "belongs to another organization",
            admin.email: "already a member",
            staff.email: "belongs to the support center",
        }
        for email, reason in cases.items():
            response = await client.post(path, json={"email": email, "role": "member"}, headers=admin.headers)
            assert response.status_code == 409, response.text
            assert response.json()["errors"] == [{"field": "email", "message": reason}]
        bad = await client.post(path, json={"email": "nope", "role": "boss"}, headers=admin.headers)
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"email", "role"}
        twice = colleague_email()
        assert (await client.post(path, json={"email": twice}, headers=admin.headers)).status_code == 201
        dup = await client.post(path, json={"email": twice.upper()}, headers=admin.headers)
        assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "email"
        async with sessionmaker() as session:
            assert len((await session.scalars(select(Invitation))).all()) == 1

    async def test_who_may_invite(self, client, sessionmaker, settings, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        member = await joined(client, sessionmaker, smtp_settings, smtp, admin)
        stranger = await register(client, agency_payload())
        staff = await create_staff(client, sessionmaker, settings)
        path = f"/api/v1/organizations/{admin.organization_id}/invitations"
        body = {"email": colleague_email(), "role": "member"}
        assert (await client.post(path, json=body, headers=member.headers)).status_code == 403
        assert (await client.post(path, json=body, headers=stranger.headers)).status_code == 404
        assert (await client.get(path, headers=member.headers)).status_code == 403
        members_path = f"/api/v1/organizations/{admin.organization_id}/members"
        assert (await client.get(members_path, headers=member.headers)).status_code == 200
        assert (await client.get(members_path, headers=stranger.headers)).status_code == 404
        by_staff = await client.post(path, json=body, headers=staff.headers)
        assert by_staff.status_code == 201
        await mailed_token(sessionmaker, smtp_settings, smtp, body["email"])
        async with sessionmaker() as session:
            event = await session.scalar(
                select(AuditEvent).where(AuditEvent.action == "member.invited").order_by(AuditEvent.at.desc())
            )
        assert str(event.actor_id) == staff.user_id and str(event.target_id) == admin.organization_id

    async def test_an_account_without_organization_joins_with_its_password(
        self, client, sessionmaker, smtp, smtp_settings
    ):
        old = await register(client, agency_payload())
        person = await joined(client, sessionmaker, smtp_settings, smtp, old)
        removed = await client.delete(
            f"/api/v1/organizations/{old.organization_id}/members/{person.user_id}", headers=old.headers
        )
        assert removed.status_code == 204
        new = await register(client, firm_payload())
        await invite(client, new, person.email, "admin")
        token = await mailed_token(sessionmaker, smtp_settings, smtp, person.email)
        wrong = await accept(client, token, password="not-the-password")
        assert wrong.status_code == 401 and wrong.json()["errors"][0]["field"] == "password"
        right = await accept(client, token, name="", password=PASSWORD)
        assert right.status_code == 201, right.text
        assert right.json()["user"]["role"] == "firm"
        assert await roles(client, new) == {new.email: "admin", person.email: "admin"}


class TestRemoval:
    async def test_a_removed_members_token_answers_401_at_once(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        member = await joined(client, sessionmaker, smtp_settings, smtp, admin)
        second_token = await login(client, member.email)
        assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200
        removed = await client.delete(
            f"/api/v1/organizations/{admin.organization_id}/members/{member.user_id}", headers=admin.headers
        )
        assert removed.status_code == 204
        for token in (member.token, second_token):
            assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
        async with sessionmaker() as session:
            live = await session.scalars(
                select(AuthToken).where(AuthToken.user_id == uuid.UUID(member.user_id), AuthToken.revoked_at.is_(None))
            )
            assert live.all() == []
        assert await roles(client, admin) == {admin.email: "admin"}
        # the account stays, without an organization: it may sign in and sees no organization's data
        token = await login(client, member.email)
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["organization"] is None
        pages = {}
        for path in ("/", "/me", "/needs", "/organization/members"):
            page = await client.get(path, headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
            pages[path] = page.status_code
        assert pages == {"/": 200, "/me": 200, "/needs": 403, "/organization/members": 404}
        needs = await client.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"})
        assert needs.status_code == 403

    async def test_every_change_is_in_the_organizations_history(
        self, client, sessionmaker, settings, smtp, smtp_settings
    ):
        admin = await register(client, agency_payload())
        member = await joined(client, sessionmaker, smtp_settings, smtp, admin)
        base = f"/api/v1/organizations/{admin.organization_id}/members/{member.user_id}"
        await client.patch(base, json={"role": "admin"}, headers=admin.headers)
        await client.delete(base, headers=admin.headers)
        staff = await create_staff(client, sessionmaker, settings)
        page = await client.get(f"/agencies/{admin.organization_id}", headers=staff.headers)
        async with sessionmaker() as session:
            actions = (
                await session.scalars(
                    select(AuditEvent.action)
                    .where(AuditEvent.target_id == uuid.UUID(admin.organization_id))
                    .order_by(AuditEvent.at)
                )
            ).all()
        assert [a for a in actions if a.startswith("member.")] == [
            "member.invited", "member.joined", "member.role_changed", "member.removed"
        ]  # fmt: skip
        assert page.status_code == 200  # staff read it on the organization's page, in Korean
        for label in ("구성원 초대", "구성원 가입", "역할 변경", "구성원 제외", "구성원 → 관리자"):
            assert label in page.text, label


class TestAcceptRace:
    async def test_one_link_accepted_twice_at_once_creates_one_member(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        email = colleague_email()
        await invite(client, admin, email)
        token = await mailed_token(sessionmaker, smtp_settings, smtp, email)

        async def accept_once(name):
            async with sessionmaker() as session:
                try:
                    await MemberService(session).accept(token, name, PASSWORD)
                    await asyncio.sleep(0.05)  # hold the invitation's row lock while the other waits
                    await session.commit()
                    return "joined"
                except DomainError as exc:
                    await session.rollback()
                    return exc.status

        outcomes = await asyncio.gather(accept_once("하나"), accept_once("둘"))
        assert sorted(map(str, outcomes)) == ["410", "joined"], outcomes
        async with sessionmaker() as session:
            users = (await session.scalars(select(User).where(User.email == email))).all()
        assert len(users) == 1
