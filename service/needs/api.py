"""JSON API of firms' responses to needs (관심 표명): a firm responds, edits or withdraws its response;
the need's agency and staff list the responses and reply."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from service.identity.principal import Principal
from service.lib.deps import provide_service
from service.needs.models import NeedResponse, NeedResponseReply
from service.needs.responses import NeedResponseService, ReplyIn, ResponseIn, ResponseRow
from service.needs.service import NeedService
from service.registry.models import Organization


class ResponseFirm(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    district: str


class ResponseOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    need_id: uuid.UUID
    firm: ResponseFirm | None = None
    message: str
    file_url: str | None
    proposed_at: datetime | None
    created_at: datetime
    reply: str | None
    replied_at: datetime | None


def response_out(
    response: NeedResponse, firm: Organization | None = None, replies: Sequence[NeedResponseReply] = ()
) -> ResponseOut:
    """A response as the API gives it; `reply` and `replied_at` are its latest reply (oldest first in `replies`)."""
    latest = replies[-1] if replies else None
    return ResponseOut(
        id=response.id,
        need_id=response.need_id,
        firm=ResponseFirm(id=firm.id, name=firm.name, district=firm.district) if firm else None,
        message=response.message,
        file_url=response.file_url,
        proposed_at=response.proposed_at,
        created_at=response.created_at,
        reply=latest.message if latest else None,
        replied_at=latest.created_at if latest else None,
    )


def row_out(row: ResponseRow) -> ResponseOut:
    return response_out(row.response, row.firm, row.replies)


async def one_out(responses: NeedResponseService, response: NeedResponse) -> ResponseOut:
    return response_out(response, replies=(await responses.replies([response.id])).get(response.id, []))


class NeedResponseController(Controller):
    path = "/api/v1/needs/{need_id:uuid}/responses"
    tags = ["needs"]
    dependencies = {"needs": provide_service(NeedService), "responses": provide_service(NeedResponseService)}

    @post("/")
    async def respond_to_need(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[ResponseIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        responses: NamedDependency[NeedResponseService],
    ) -> ResponseOut:
        """A verified firm responds to an open need (message ≤ 1,000 characters, optional https `file_url`
        and future `proposed_at`); the agency is mailed. A second live response is a 409."""
        need = await needs.get_for(viewer, need_id)
        return await one_out(responses, await responses.respond(viewer, need, data))

    @get("/")
    async def list_need_responses(
        self,
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        responses: NamedDependency[NeedResponseService],
    ) -> list[ResponseOut]:
        """The need's live responses, newest first, with each firm (its agency and staff only)."""
        need = await needs.get_own(viewer, need_id)
        return [row_out(row) for row in await responses.for_need(viewer, need)]

    @patch("/{response_id:uuid}")
    async def edit_need_response(
        self,
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
        data: JSONBody[ResponseIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        responses: NamedDependency[NeedResponseService],
    ) -> ResponseOut:
        """The firm changes its live response while the need is open."""
        need = await needs.get_for(viewer, need_id)
        return await one_out(responses, await responses.edit(viewer, need, data, response_id=response_id))

    @delete("/{response_id:uuid}", status_code=200)
    async def withdraw_need_response(
        self,
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        responses: NamedDependency[NeedResponseService],
    ) -> ResponseOut:
        """The firm withdraws its live response while the need is open."""
        need = await needs.get_for(viewer, need_id)
        return await one_out(responses, await responses.withdraw(viewer, need, response_id=response_id))

    @post("/{response_id:uuid}/reply", status_code=200)
    async def reply_to_need_response(
        self,
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
        data: JSONBody[ReplyIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        responses: NamedDependency[NeedResponseService],
    ) -> ResponseOut:
        """The need's agency (or staff) replies to a response; the firm is mailed."""
        need = await needs.get_own(viewer, need_id)
        return await one_out(responses, await responses.reply(viewer, need, response_id, data))


ROUTES = [NeedResponseController]
