"""Firms' responses to needs (관심 표명): a verified firm answers an open need with a short message,
optionally an https link to a file and a proposed meeting time; the need's agency (and staff) read them,
newest first, and reply. One live response per need and firm (a partial unique index); the firm edits or
withdraws it while the need is open."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound
from service.lib.events import publish
from service.needs.events import NeedResponded, NeedResponseReplied
from service.needs.models import (
    MAX_REPLY_MESSAGE,
    MAX_RESPONSE_MESSAGE,
    Need,
    NeedResponse,
    NeedResponseReply,
    NeedStatus,
)
from service.registry.models import Organization

MAX_FILE_URL = 500
UNIQUE_VIOLATION = "23505"


class ResponseIn(msgspec.Struct, kw_only=True):
    message: str | None = None
    file_url: str | None = None
    proposed_at: datetime | None = None


class ReplyIn(msgspec.Struct, kw_only=True):
    message: str | None = None


@dataclass(frozen=True)
class ResponseRow:
    """A response with the firm that sent it, as the agency's page and the API list it."""

    response: NeedResponse
    firm: Organization
    replies: list[NeedResponseReply] = field(default_factory=list)


def clean_response(data: ResponseIn, errors: FieldErrors) -> dict[str, object]:
    """The response's fields, checked: a message of 1 to 1,000 characters, an https link, a future time."""
    message = (data.message or "").strip()
    if not message:
        errors.add("message", "required")
    elif len(message) > MAX_RESPONSE_MESSAGE:
        errors.add("message", "must be at most 1,000 characters")
    file_url = (data.file_url or "").strip() or None
    if file_url is not None and (
        not file_url.startswith("https://")
        or len(file_url) > MAX_FILE_URL
        or len(file_url) <= len("https://")
        or any(c.isspace() or ord(c) < 32 for c in file_url)
    ):
        errors.add("file_url", "must be an https:// link")
    proposed_at = data.proposed_at
    if proposed_at is not None and proposed_at.tzinfo is None:
        errors.add("proposed_at", "must include a time zone")
    elif proposed_at is not None and proposed_at <= now():
        errors.add("proposed_at", "must be in the future")
    return {"message": message, "file_url": file_url, "proposed_at": proposed_at}


class NeedResponseService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def agency_of(self, need: Need) -> Organization | None:
        """The agency that posted `need` (its name and district head a firm's view of the need)."""
        return await self.session.get(Organization, need.agency_id)

    async def own_live(self, actor: Principal, need: Need) -> NeedResponse | None:
        """The caller's firm's live response to `need`, if any."""
        if not actor.is_firm:
            return None
        response: NeedResponse | None = await self.session.scalar(
            select(NeedResponse).where(
                NeedResponse.need_id == need.id,
                NeedResponse.firm_id == actor.organization_id,
                NeedResponse.withdrawn_at.is_(None),
            )
        )
        return response

    async def answered(self, actor: Principal, need_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        """Which of `need_ids` the caller's firm has a live response to, and since when (its needs list
        marks them)."""
        if not actor.is_firm or not need_ids:
            return {}
        rows = await self.session.execute(
            select(NeedResponse.need_id, NeedResponse.created_at).where(
                NeedResponse.need_id.in_(need_ids),
                NeedResponse.firm_id == actor.organization_id,
                NeedResponse.withdrawn_at.is_(None),
            )
        )
        return dict(list(rows.tuples()))  # a Result has .keys(): dict() would read it as a mapping

    def _check_firm_may_answer(self, actor: Principal, need: Need) -> None:
        if not actor.is_firm:
            raise Forbidden("Only firms respond to needs.")
        actor.require_verified()
        if need.status != NeedStatus.OPEN:
            raise Conflict("The need is no longer open.")

    async def respond(
        self, actor: Principal, need: Need, data: ResponseIn, form_errors: FieldErrors | None = None
    ) -> NeedResponse:
        """A verified firm responds to an open need; the agency is mailed. A second live response is a 409."""
        errors = form_errors or FieldErrors()
        fields = clean_response(data, errors)
        errors.raise_if_any()
        self._check_firm_may_answer(actor, need)
        response = NeedResponse(need_id=need.id, firm_id=actor.organization_id, created_by=actor.user_id, **fields)
        self.session.add(response)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION:
                raise Conflict("Your firm already responded to this need; edit or withdraw that response.") from None
            raise
        await publish(self.session, NeedResponded(response, need))
        return response

    async def edit(
        self,
        actor: Principal,
        need: Need,
        data: ResponseIn,
        form_errors: FieldErrors | None = None,
        response_id: uuid.UUID | None = None,
    ) -> NeedResponse:
        """The firm changes its live response while the need is open."""
        errors = form_errors or FieldErrors()
        fields = clean_response(data, errors)
        errors.raise_if_any()
        self._check_firm_may_answer(actor, need)
        response = await self.own_live(actor, need)
        if response is None or response_id not in (None, response.id):
            raise NotFound("No such response.")
        for key, value in fields.items():
            setattr(response, key, value)
        await self.session.flush()
        return response

    async def withdraw(self, actor: Principal, need: Need, response_id: uuid.UUID | None = None) -> NeedResponse:
        """The firm withdraws its live response while the need is open; it may respond again later."""
        self._check_firm_may_answer(actor, need)
        response = await self.own_live(actor, need)
        if response is None or response_id not in (None, response.id):
            raise NotFound("No such response.")
        response.withdrawn_at = now()
        await self.session.flush()
        return response

    async def for_need(self, actor: Principal, need: Need) -> list[ResponseRow]:
        """The live responses to `need`, newest first, for its agency and staff only."""
        if not (actor.is_staff or actor.owns(need.agency_id)):
            raise NotFound("No such need.")
        rows = await self.session.execute(
            select(NeedResponse, Organization)
            .join(Organization, Organization.id == NeedResponse.firm_id)
            .where(NeedResponse.need_id == need.id, NeedResponse.withdrawn_at.is_(None))
            .order_by(NeedResponse.created_at.desc(), NeedResponse.id)
        )
        pairs = list(rows.tuples())
        replies = await self.replies([r.id for r, _ in pairs])
        return [ResponseRow(r, o, replies.get(r.id, [])) for r, o in pairs]

    async def replies(self, response_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[NeedResponseReply]]:
        """Every agency reply to each of `response_ids`, oldest first (the conversation as it went)."""
        if not response_ids:
            return {}
        out: dict[uuid.UUID, list[NeedResponseReply]] = {}
        for reply in await self.session.scalars(
            select(NeedResponseReply)
            .where(NeedResponseReply.response_id.in_(response_ids))
            .order_by(NeedResponseReply.created_at, NeedResponseReply.id)
        ):
            out.setdefault(reply.response_id, []).append(reply)
        return out

    async def counts(self, need_ids: list[uuid.UUID], since: datetime | None = None) -> dict[uuid.UUID, int]:
        """How many live responses each need has (those newer than `since` only, when given); for the
        agency's home."""
        if not need_ids:
            return {}
        statement = (
            select(NeedResponse.need_id, func.count())
            .where(NeedResponse.need_id.in_(need_ids), NeedResponse.withdrawn_at.is_(None))
            .group_by(NeedResponse.need_id)
        )
        if since is not None:
            statement = statement.where(NeedResponse.created_at > since)
        return {need_id: int(n) for need_id, n in await self.session.execute(statement)}

    async def reply(self, actor: Principal, need: Need, response_id: uuid.UUID, data: ReplyIn) -> NeedResponse:
        """The need's agency (or staff) replies to a live response; the firm is mailed."""
        if not (actor.is_staff or actor.owns(need.agency_id)):
            raise NotFound("No such need.")
        message = (data.message or "").strip()
        errors = FieldErrors()
        if not message:
            errors.add("message", "required")
        elif len(message) > MAX_REPLY_MESSAGE:
            errors.add("message", "must be at most 1,000 characters")
        errors.raise_if_any()
        response = await self.session.get(NeedResponse, response_id)
        if response is None or response.need_id != need.id or response.withdrawn_at is not None:
            raise NotFound("No such response.")
        reply = NeedResponseReply(response_id=response.id, message=message, created_by=actor.user_id, created_at=now())
        self.session.add(reply)
        await self.session.flush()
        await publish(self.session, NeedResponseReplied(response, need, reply))
        return response
