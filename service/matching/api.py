"""JSON API of needs and matching: needs with their direct-contract eligibility, ranked firms for a need,
ranked needs for a firm, shortlists and invitations, the weights.

The needs endpoints live here, not in the needs domain, because every need is shown with the matching's
direct-contract limit and a firm's list of needs is the matching's ranking.
"""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.bounds import BoundedMap
from service.lib.deps import provide_service
from service.lib.errors import ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pagination import Page, check_page
from service.matching.scoring import Score
from service.matching.service import MatchingService
from service.needs.models import Need
from service.needs.schemas import AwardIn, NeedIn, NeedOut, ReasonOut, need_out
from service.needs.service import NeedService

SERVICES = {"needs": provide_service(NeedService), "matching": provide_service(MatchingService)}


class MatchFirm(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    district: str
    firm_types: list[str]


class Match(msgspec.Struct, kw_only=True):
    firm: MatchFirm
    score: float
    reasons: list[ReasonOut]


class MatchesOut(msgspec.Struct, kw_only=True):
    need_id: uuid.UUID
    matches: list[Match]


class ShortlistIn(msgspec.Struct, kw_only=True):
    firm_id: uuid.UUID
    invite: str | None = None
    fair_id: uuid.UUID | None = None
    message: str = ""


class ShortlistOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    need_id: uuid.UUID
    firm_id: uuid.UUID
    invite: str | None
    fair_id: uuid.UUID | None
    message: str
    invited_at: str | None


class InvitationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    need_id: uuid.UUID
    need_title: str
    agency_id: uuid.UUID
    agency_name: str
    invite: str | None
    fair_id: uuid.UUID | None
    message: str
    invited_at: str | None


class SettingsIn(msgspec.Struct, kw_only=True):
    weights: BoundedMap[float] = msgspec.field(default_factory=dict)
    direct_contract_limit_krw: int | None = None


class SettingsOut(msgspec.Struct, kw_only=True):
    weights: dict[str, float]
    direct_contract_limit_krw: int


def reasons_out(fit: Score) -> list[ReasonOut]:
    return [ReasonOut(factor=r.factor, points=r.points, detail=r.detail) for r in fit.reasons]


async def need_view(matching: MatchingService, need: Need) -> NeedOut:
    """A need as the API shows it: with whether it fits under the direct-contract limit."""
    return need_out(need, (await matching.settings()).direct_contract_limit_krw)


class NeedController(Controller):
    path = "/api/v1/needs"
    tags = ["needs"]
    dependencies = SERVICES

    @post("/")
    async def create_need(
        self,
        data: JSONBody[NeedIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> NeedOut:
        """A verified agency posts a purchase need."""
        return await need_view(matching, await needs.create(viewer, data))

    @get("/")
    async def list_needs(
        self,
        verified_org: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        status: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[NeedOut]:
        """Agency: its own needs; firm: open needs that fit it, best first, with why; staff: all."""
        offset, limit = check_page(page, page_size)
        if status is not None and status not in ("open", "closed", "awarded"):
            raise ValidationFailed.single("status", "must be open, closed or awarded")
        cap = (await matching.settings()).direct_contract_limit_krw
        if verified_org.is_firm:
            ranked = await matching.needs_for_firm(verified_org, current_locale())
            items = []
            for need, fit in ranked[offset : offset + limit]:
                out = need_out(need, cap)
                out.score = fit.total
                out.reasons = reasons_out(fit)
                items.append(out)
            return Page(items=items, total=len(ranked), page=page, page_size=page_size)
        rows, total = await needs.list_own(verified_org, status, offset, limit)
        return Page(items=[need_out(n, cap) for n in rows], total=total, page=page, page_size=page_size)

    @get("/{need_id:uuid}")
    async def get_need(
        self,
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> NeedOut:
        """One need: its agency, staff, or a verified firm while the need is open."""
        return await need_view(matching, await needs.get_for(viewer, need_id))

    @patch("/{need_id:uuid}")
    async def update_need(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[NeedIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> NeedOut:
        """Edit an open need (its agency or staff)."""
        return await need_view(matching, await needs.update(viewer, need_id, data))

    @post("/{need_id:uuid}/close", status_code=200)
    async def close_need(
        self,
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> NeedOut:
        """Close a need without award."""
        return await need_view(matching, await needs.close(viewer, need_id))

    @post("/{need_id:uuid}/award", status_code=200)
    async def award_need(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[AwardIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> NeedOut:
        """Mark a need awarded (optionally to a firm)."""
        return await need_view(matching, await needs.award(viewer, need_id, data.firm_id))


class MatchingController(Controller):
    path = "/api/v1"
    tags = ["matching"]
    dependencies = SERVICES

    @get("/needs/{need_id:uuid}/matches")
    async def list_matches(
        self,
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        limit: FromQuery[int] = 20,
    ) -> MatchesOut:
        """Ranked suppliers for a need (its agency or staff), best first, each with reasons."""
        need = await needs.get_own(viewer, need_id)
        ranked = await matching.matches(viewer, need, limit, current_locale())
        return MatchesOut(
            need_id=need.id,
            matches=[
                Match(
                    firm=MatchFirm(id=f.id, name=f.name, district=f.district, firm_types=list(f.firm_types)),
                    score=s.total,
                    reasons=reasons_out(s),
                )
                for f, s in ranked
            ],
        )

    @post("/needs/{need_id:uuid}/shortlist")
    async def shortlist_firm(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[ShortlistIn],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> ShortlistOut:
        """Shortlist a firm for the need; `invite` ("contact" or "fair") also invites it."""
        need = await needs.get_own(viewer, need_id)
        entry = await matching.shortlist(viewer, need, data.firm_id, data.invite, data.fair_id, data.message)
        return ShortlistOut(
            id=entry.id,
            need_id=entry.need_id,
            firm_id=entry.firm_id,
            invite=entry.invite,
            fair_id=entry.fair_id,
            message=entry.message,
            invited_at=entry.invited_at.isoformat() if entry.invited_at else None,
        )

    @get("/me/invitations")
    async def list_invitations(
        self, viewer: NamedDependency[Principal], matching: NamedDependency[MatchingService]
    ) -> list[InvitationOut]:
        """A firm's invitations from agencies' shortlists."""
        return [
            InvitationOut(
                id=s.id,
                need_id=n.id,
                need_title=n.title,
                agency_id=o.id,
                agency_name=o.name,
                invite=s.invite,
                fair_id=s.fair_id,
                message=s.message,
                invited_at=s.invited_at.isoformat() if s.invited_at else None,
            )
            for s, n, o in await matching.invitations(viewer)
        ]


class MatchingSettingsController(Controller):
    path = "/api/v1/matching/settings"
    tags = ["matching"]
    guards = [staff_only]
    dependencies = {"matching": provide_service(MatchingService)}

    @get("/")
    async def get_matching_settings(self, matching: NamedDependency[MatchingService]) -> SettingsOut:
        """Staff: the factor weights and the direct-contract limit."""
        row = await matching.settings()
        return SettingsOut(weights=row.weights, direct_contract_limit_krw=row.direct_contract_limit_krw)

    @put("/")
    async def update_matching_settings(
        self, data: JSONBody[SettingsIn], staff: NamedDependency[Principal], matching: NamedDependency[MatchingService]
    ) -> SettingsOut:
        """Staff: change weights (0–100 each) and the direct-contract limit."""
        row = await matching.update_settings(staff, data.weights, data.direct_contract_limit_krw)
        return SettingsOut(weights=row.weights, direct_contract_limit_krw=row.direct_contract_limit_krw)


ROUTES = [NeedController, MatchingController, MatchingSettingsController]
