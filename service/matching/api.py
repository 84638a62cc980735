"""JSON API of matching: ranked firms for a need, shortlists and invitations, the weights."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal, require_principal, require_staff
from service.lib.bounds import BoundedMap
from service.lib.i18n import current_locale
from service.matching.service import MatchingService
from service.needs.schemas import ReasonOut
from service.needs.service import NeedService


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


class MatchingController(Controller):
    path = "/api/v1"
    tags = ["matching"]

    @get("/needs/{need_id:uuid}/matches")
    async def list_matches(
        self,
        need_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        limit: FromQuery[int] = 20,
    ) -> MatchesOut:
        """Ranked suppliers for a need (its agency or staff), best first, each with reasons."""
        caller = require_principal(principal)
        need = await NeedService(db_session).get_own(caller, need_id)
        ranked = await MatchingService(db_session).matches(caller, need, limit, current_locale())
        return MatchesOut(
            need_id=need.id,
            matches=[
                Match(
                    firm=MatchFirm(id=f.id, name=f.name, district=f.district, firm_types=list(f.firm_types)),
                    score=s.total,
                    reasons=[ReasonOut(factor=r.factor, points=r.points, detail=r.detail) for r in s.reasons],
                )
                for f, s in ranked
            ],
        )

    @post("/needs/{need_id:uuid}/shortlist")
    async def shortlist_firm(
        self,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[ShortlistIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> ShortlistOut:
        """Shortlist a firm for the need; `invite` ("contact" or "fair") also invites it."""
        caller = require_principal(principal)
        need = await NeedService(db_session).get_own(caller, need_id)
        entry = await MatchingService(db_session).shortlist(
            caller, need, data.firm_id, data.invite, data.fair_id, data.message
        )
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
        self, principal: NamedDependency[Principal | None], db_session: NamedDependency[AsyncSession]
    ) -> list[InvitationOut]:
        """A firm's invitations from agencies' shortlists."""
        caller = require_principal(principal)
        rows = await MatchingService(db_session).invitations(caller)
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
            for s, n, o in rows
        ]

    @get("/matching/settings")
    async def get_matching_settings(
        self, principal: NamedDependency[Principal | None], db_session: NamedDependency[AsyncSession]
    ) -> SettingsOut:
        """Staff: the factor weights and the direct-contract limit."""
        require_staff(principal)
        row = await MatchingService(db_session).settings()
        return SettingsOut(weights=row.weights, direct_contract_limit_krw=row.direct_contract_limit_krw)

    @put("/matching/settings")
    async def update_matching_settings(
        self,
        data: JSONBody[SettingsIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> SettingsOut:
        """Staff: change weights (0–100 each) and the direct-contract limit."""
        staff = require_staff(principal)
        row = await MatchingService(db_session).update_settings(staff, data.weights, data.direct_contract_limit_krw)
        return SettingsOut(weights=row.weights, direct_contract_limit_krw=row.direct_contract_limit_krw)


ROUTES = [MatchingController]
