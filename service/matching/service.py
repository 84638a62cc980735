"""Matching: candidate retrieval in SQL (indexed category overlap, verified firms only), scoring in
the pure `scoring` module, fair exposure among near-equal matches, shortlists and invitations."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

from sqlalchemy import Float, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal
from service.lib.clock import now, today
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish
from service.matching.events import ShortlistInvited
from service.matching.models import MatchExposure, MatchingSettings, Shortlist
from service.matching.scoring import (
    DEFAULT_WEIGHTS,
    FACTORS,
    TRACK_RECORD_SATURATION,
    FirmFacts,
    NeedFacts,
    Score,
    fair_order,
    score,
)
from service.matching.tasks import StaffTaskService
from service.needs.models import Need, NeedStatus
from service.registry import taxonomy
from service.registry.directory import counts_as_any_sql
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

EXPOSURE_WINDOW = timedelta(days=90)
MAX_MATCHES = 100
RERANK = 120  # candidates that get the full score with text relevance
NEED_PAGE_MATCHES = 20  # firms shown on a need's page


def widen(codes: list[str]) -> list[str]:
    """The leaves of every group a code belongs to: same-leaf and same-group candidates."""
    out: set[str] = set()
    for code in codes:
        out.update(taxonomy.leaves_of(taxonomy.group_of(code)))
    return sorted(out)


def need_facts(need: Need) -> NeedFacts:
    return NeedFacts(
        title=need.title,
        description=need.description,
        category_codes=tuple(need.category_codes),
        budget_krw=need.budget_krw,
        delivery_district=need.delivery_district,
        preferred_firm_types=tuple(need.preferred_firm_types),
    )


def firm_facts(firm: Organization) -> FirmFacts:
    return FirmFacts(
        name=firm.name,
        description=firm.description,
        keywords=tuple(firm.keywords),
        category_codes=tuple(firm.category_codes),
        district=firm.district,
        firm_types=tuple(firm.firm_types),
        capacity_krw=firm.capacity_krw,
        confirmed_contracts=firm.confirmed_contracts,
        certified_until=firm.certified_until,
    )


def check_shortlist(invite: str | None, fair_id: uuid.UUID | None, message: str) -> None:
    """A shortlist entry's invitation fields, every error at once (422)."""
    errors = FieldErrors()
    if invite not in (None, "contact", "fair"):
        errors.add("invite", "must be 'contact' or 'fair'")
    if invite == "fair" and fair_id is None:
        errors.add("fair_id", "required when inviting to a fair")
    if len(message) > 2000:
        errors.add("message", "must be at most 2,000 characters")
    errors.raise_if_any()


class MatchingService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def settings(self) -> MatchingSettings:
        row = await self.session.get(MatchingSettings, 1)
        if row is None:  # the migration inserts it; recreate defensively
            row = MatchingSettings(id=1, weights=dict(DEFAULT_WEIGHTS))
            self.session.add(row)
            await self.session.flush()
        return row

    async def update_settings(
        self, actor: Principal, weights: dict[str, float], direct_contract_limit_krw: int | None
    ) -> MatchingSettings:
        if not actor.is_staff:
            raise Forbidden("Only staff may tune the matching.")
        errors = FieldErrors()
        for factor, value in weights.items():
            if factor not in FACTORS:
                errors.add(f"weights.{factor}", "unknown factor")
            elif not 0 <= value <= 100:
                errors.add(f"weights.{factor}", "must be between 0 and 100")
        if direct_contract_limit_krw is not None and not 0 <= direct_contract_limit_krw <= 10**12:
            errors.add("direct_contract_limit_krw", "must be between 0 and 1,000,000,000,000")
        merged = {**(await self.settings()).weights, **weights}
        if sum(merged.get(f, 0) for f in FACTORS) <= 0:
            errors.add("weights", "at least one weight must be positive")
        errors.raise_if_any()
        row = await self.settings()
        row.weights = merged
        if direct_contract_limit_krw is not None:
            row.direct_contract_limit_krw = direct_contract_limit_krw
        row.updated_by = actor.user_id
        row.updated_at = now()
        await self.session.flush()
        return row

    async def _recent_exposure(self, firm_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not firm_ids:
            return {}
        rows = await self.session.execute(
            select(MatchExposure.firm_id, func.count())
            .where(MatchExposure.firm_id.in_(firm_ids), MatchExposure.shown_at > now() - EXPOSURE_WINDOW)
            .group_by(MatchExposure.firm_id)
        )
        return {firm_id: int(n) for firm_id, n in rows}

    async def matches(self, actor: Principal, need: Need, limit: int, locale: str) -> list[tuple[Organization, Score]]:
        """Ranked firms for the need, best first, each with its reasons."""
        if not (actor.is_staff or actor.owns(need.agency_id)):
            raise NotFound("No such need.")
        if not 1 <= limit <= MAX_MATCHES:
            raise ValidationFailed.single("limit", f"must be between 1 and {MAX_MATCHES}")
        weights = {**DEFAULT_WEIGHTS, **(await self.settings()).weights}
        candidates = await self._candidates(need, weights, RERANK)
        facts = need_facts(need)
        on_day = today()
        scored = {firm.id: (firm, score(facts, firm_facts(firm), on_day, weights, locale)) for firm in candidates}
        exposure = await self._recent_exposure(list(scored))
        order = fair_order(
            (str(fid), s.total, exposure.get(fid, 0) + 3 * firm.confirmed_contracts)
            for fid, (firm, s) in scored.items()
        )
        ranked = [scored[uuid.UUID(fid)] for fid in order[:limit]]
        if actor.owns(need.agency_id):
            self.session.add_all(MatchExposure(firm_id=firm.id, need_id=need.id, shown_at=now()) for firm, _ in ranked)
            await self.session.flush()
        return ranked

    async def for_need_page(
        self, actor: Principal, need: Need, locale: str
    ) -> tuple[list[tuple[Organization, Score]], dict[uuid.UUID, Shortlist]]:
        """What a need's page shows of the matching: to its agency and staff the best firms and the shortlist
        (by firm id); to anyone else nothing."""
        if not (actor.is_staff or actor.owns(need.agency_id)):
            return [], {}
        matches = await self.matches(actor, need, NEED_PAGE_MATCHES, locale)
        return matches, {s.firm_id: s for s, _ in await self.shortlisted(need)}

    async def _candidates(self, need: Need, weights: dict[str, float], limit: int) -> list[Organization]:
        """First stage, in SQL over indexes: verified firms in the need's categories or their groups
        (GIN on category_codes), ordered by every factor except text relevance; the best `limit` go on
        to the full score. Text can add at most its weight, so the re-rank window is kept wide."""
        leaves = list(need.category_codes)
        on_day = today()
        district_points = (
            case(
                (Organization.district == need.delivery_district, 1.0),
                (Organization.district != "other", 0.55),
                else_=0.0,
            )
            if need.delivery_district
            else case((Organization.district != "other", 0.7), else_=0.0)
        )
        preferred = list(need.preferred_firm_types)
        type_points = case((counts_as_any_sql(preferred, on_day), 1.0), else_=0.0) if preferred else literal(0.5)
        capacity_points = case(
            (Organization.capacity_krw.is_(None), 0.5),
            (Organization.capacity_krw >= need.budget_krw, 1.0),
            else_=cast(Organization.capacity_krw, Float) / float(max(need.budget_krw, 1)),
        )
        track_points = func.least(
            1.0, func.ln(1.0 + Organization.confirmed_contracts) / math.log1p(TRACK_RECORD_SATURATION)
        )
        cert_points = case(
            (~Organization.firm_types.contains(["social_enterprise"]), 0.5),
            (Organization.certified_until >= on_day, 1.0),
            else_=0.0,
        )
        cheap = (
            weights["category"] * case((Organization.category_codes.overlap(leaves), 1.0), else_=0.55)
            + weights["district"] * district_points
            + weights["firm_type"] * type_points
            + weights["capacity"] * capacity_points
            + weights["track_record"] * track_points
            + weights["certification"] * cert_points
        )
        rows = await self.session.scalars(
            select(Organization)
            .where(
                Organization.kind == OrganizationKind.FIRM,
                Organization.status == OrganizationStatus.VERIFIED,
                Organization.category_codes.overlap(widen(leaves)),
            )
            .order_by(cheap.desc(), Organization.id)
            .limit(limit)
        )
        return list(rows)

    async def match_counts(self, needs: list[Need]) -> dict[uuid.UUID, int]:
        """How many verified firms each need could be matched with (those in its categories or their groups)."""
        counts: dict[uuid.UUID, int] = {}
        for need in needs:
            counts[need.id] = int(
                await self.session.scalar(
                    select(func.count())
                    .select_from(Organization)
                    .where(
                        Organization.kind == OrganizationKind.FIRM,
                        Organization.status == OrganizationStatus.VERIFIED,
                        Organization.category_codes.overlap(widen(list(need.category_codes))),
                    )
                )
                or 0
            )
        return counts

    async def needs_for_firm(self, actor: Principal, locale: str) -> list[tuple[Need, Score]]:
        """Open needs that fit the firm, best first."""
        firm = await self.session.get(Organization, actor.organization_id)
        if firm is None:
            raise NotFound("No such firm.")
        needs = await self.session.scalars(
            select(Need).where(
                Need.status == NeedStatus.OPEN, Need.category_codes.overlap(widen(list(firm.category_codes)))
            )
        )
        weights = (await self.settings()).weights
        facts = firm_facts(firm)
        on_day = today()
        ranked = [(need, score(need_facts(need), facts, on_day, weights, locale)) for need in needs]
        ranked.sort(key=lambda item: (-item[1].total, item[0].needed_by, str(item[0].id)))
        return ranked

    async def shortlist(
        self,
        actor: Principal,
        need: Need,
        firm_id: uuid.UUID,
        invite: str | None,
        fair_id: uuid.UUID | None,
        message: str,
    ) -> Shortlist:
        if not actor.owns(need.agency_id) and not actor.is_staff:
            raise NotFound("No such need.")
        check_shortlist(invite, fair_id, message)
        firm = await self.session.get(Organization, firm_id)
        if firm is None or firm.kind != OrganizationKind.FIRM or firm.status != OrganizationStatus.VERIFIED:
            raise NotFound("No such firm.")
        if invite and await StaffTaskService(self.session).without_account([firm_id]):
            # nobody at the firm would read an invitation: the support center is asked to reach it instead
            await StaffTaskService(self.session).ask_to_reach(actor, firm_id, need, message)
            invite = None
        entry = await self.session.scalar(
            select(Shortlist).where(Shortlist.need_id == need.id, Shortlist.firm_id == firm_id)
        )
        if entry is None:
            entry = Shortlist(need_id=need.id, firm_id=firm_id, created_by=actor.user_id)
            self.session.add(entry)
        elif invite and entry.invite:
            raise Conflict("This firm was already invited for this need.")
        if invite:
            entry.invite = invite
            entry.fair_id = fair_id
            entry.message = message.strip()
            entry.invited_at = now()
        await self.session.flush()
        if invite:
            await publish(self.session, ShortlistInvited(entry, need))
        return entry

    async def shortlisted(self, need: Need) -> list[tuple[Shortlist, Organization]]:
        rows = await self.session.execute(
            select(Shortlist, Organization)
            .join(Organization, Organization.id == Shortlist.firm_id)
            .where(Shortlist.need_id == need.id)
            .order_by(Shortlist.created_at)
        )
        return [(s, o) for s, o in rows.tuples()]

    async def invitations(self, actor: Principal) -> list[tuple[Shortlist, Need, Organization]]:
        rows = await self.session.execute(
            select(Shortlist, Need, Organization)
            .join(Need, Need.id == Shortlist.need_id)
            .join(Organization, Organization.id == Need.agency_id)
            .where(Shortlist.firm_id == actor.organization_id, Shortlist.invite.is_not(None))
            .order_by(Shortlist.invited_at.desc())
        )
        return [(s, n, o) for s, n, o in rows.tuples()]
