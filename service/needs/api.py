"""JSON API of purchase needs."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal, require_principal
from service.lib.errors import ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pagination import Page, check_page
from service.matching.service import MatchingService
from service.needs.schemas import AwardIn, NeedIn, NeedOut, ReasonOut, need_out
from service.needs.service import NeedService


class NeedController(Controller):
    path = "/api/v1/needs"
    tags = ["needs"]

    @post("/")
    async def create_need(
        self,
        data: JSONBody[NeedIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> NeedOut:
        """A verified agency posts a purchase need."""
        need = await NeedService(db_session).create(require_principal(principal), data)
        return need_out(need, (await MatchingService(db_session).settings()).direct_contract_limit_krw)

    @get("/")
    async def list_needs(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[NeedOut]:
        """Agency: its own needs; firm: open needs that fit it, best first, with why; staff: all."""
        caller = require_principal(principal)
        offset, limit = check_page(page, page_size)
        if status is not None and status not in ("open", "closed", "awarded"):
            raise ValidationFailed.single("status", "must be open, closed or awarded")
        matching = MatchingService(db_session)
        cap = (await matching.settings()).direct_contract_limit_krw
        if caller.is_firm:
            caller.require_verified()
            ranked = await matching.needs_for_firm(caller, current_locale())
            items = []
            for need, fit in ranked[offset : offset + limit]:
                out = need_out(need, cap)
                out.score = fit.total
                out.reasons = [ReasonOut(factor=r.factor, points=r.points, detail=r.detail) for r in fit.reasons]
                items.append(out)
            return Page(items=items, total=len(ranked), page=page, page_size=page_size)
        if not caller.is_staff:
            caller.require_verified()
        needs, total = await NeedService(db_session).list_own(caller, status, offset, limit)
        return Page(items=[need_out(n, cap) for n in needs], total=total, page=page, page_size=page_size)

    @get("/{need_id:uuid}")
    async def get_need(
        self,
        need_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> NeedOut:
        """One need: its agency, staff, or a verified firm while the need is open."""
        need = await NeedService(db_session).get_for(require_principal(principal), need_id)
        return need_out(need, (await MatchingService(db_session).settings()).direct_contract_limit_krw)

    @patch("/{need_id:uuid}")
    async def update_need(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[NeedIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> NeedOut:
        """Edit an open need (its agency or staff)."""
        need = await NeedService(db_session).update(require_principal(principal), need_id, data)
        return need_out(need, (await MatchingService(db_session).settings()).direct_contract_limit_krw)

    @post("/{need_id:uuid}/close", status_code=200)
    async def close_need(
        self,
        need_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> NeedOut:
        """Close a need without award."""
        need = await NeedService(db_session).close(require_principal(principal), need_id)
        return need_out(need, (await MatchingService(db_session).settings()).direct_contract_limit_krw)

    @post("/{need_id:uuid}/award", status_code=200)
    async def award_need(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[AwardIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> NeedOut:
        """Mark a need awarded (optionally to a firm)."""
        need = await NeedService(db_session).award(require_principal(principal), need_id, data.firm_id)
        return need_out(need, (await MatchingService(db_session).settings()).direct_contract_limit_krw)


ROUTES = [NeedController]
