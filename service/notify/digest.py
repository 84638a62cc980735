"""The weekly digest for firms: new open needs that fit the firm, best first with the match reason.

Once a week (from Monday 09:00 in the service's time zone) every active member of a verified firm
who has not turned the digest off is looked at once: the open needs of the firm's categories posted
since that member's last digest (a week back for a first one) are scored by the matching rules and
mailed, best first, when there is at least one. A `firm_digests` row per member and week is the
state: its unique key makes the job, run by every instance every few minutes, look at a member
once a week and mail them at most once, and its `covered_until` is where the next digest starts.
A member with nothing new gets a row and no mail (a digest is never empty).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import User
from service.config import Settings
from service.lib.clock import now, today
from service.matching.scoring import Score, score
from service.matching.service import MatchingService, firm_facts, need_facts, widen
from service.needs.models import Need, NeedStatus
from service.notify.models import FirmDigest
from service.notify.service import Mail, enqueue_many
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

DIGEST_LOCK = 1801  # advisory lock namespace (the migration's revision), keyed by the firm
SENDS_FROM = time(9, 0)  # Monday, local time
FIRST_LOOKBACK = timedelta(days=7)
LISTED = 10  # needs shown in one mail; the rest are counted and linked
REASONS = 2  # match reasons shown per need (the factors that scored most)


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    email: str
    name: str
    locale: str
    organization_id: uuid.UUID


def firm_lock_key(firm_id: uuid.UUID) -> int:
    """A 32-bit key for the firm in the two-key advisory lock space."""
    return int.from_bytes(firm_id.bytes[:4], "big", signed=True)


def week_of(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday of `moment`'s week, in `tz`."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def opens_at(week_start: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(week_start, SENDS_FROM, tzinfo=tz)


async def due_members(session: AsyncSession, week_start: date) -> list[Member]:
    """Members of verified firms who want the digest and have not been looked at this week."""
    looked_at = select(FirmDigest.id).where(FirmDigest.user_id == User.id, FirmDigest.week_start == week_start)
    rows = await session.execute(
        select(User.id, User.email, User.name, User.locale, User.organization_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            Organization.kind == OrganizationKind.FIRM,
            Organization.status == OrganizationStatus.VERIFIED,
            User.is_active.is_(True),
            User.mail_digest.is_(True),
            ~looked_at.exists(),
        )
        .order_by(User.organization_id, User.email)
    )
    return [Member(uid, email, name, locale, org) for uid, email, name, locale, org in rows.tuples() if org]


async def last_covered(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    rows = await session.execute(
        select(FirmDigest.user_id, func.max(FirmDigest.covered_until))
        .where(FirmDigest.user_id.in_(user_ids))
        .group_by(FirmDigest.user_id)
    )
    return dict(rows.tuples().all())


async def new_needs(
    session: AsyncSession, firm: Organization, since: datetime, until: datetime
) -> list[tuple[Need, str]]:
    """Open needs of the firm's categories (and their groups) posted in (since, until], with the agency's name."""
    rows = await session.execute(
        select(Need, Organization.name)
        .join(Organization, Organization.id == Need.agency_id)
        .where(
            Need.status == NeedStatus.OPEN,
            Need.category_codes.overlap(widen(list(firm.category_codes))),
            Need.created_at > since,
            Need.created_at <= until,
        )
    )
    return [(need, str(name)) for need, name in rows.tuples()]


def ranked(
    needs: list[tuple[Need, str]], firm: Organization, weights: Mapping[str, float], locale: str, on_day: date
) -> list[tuple[Need, str, Score]]:
    facts = firm_facts(firm)
    scored = [(need, agency, score(need_facts(need), facts, on_day, weights, locale)) for need, agency in needs]
    scored.sort(key=lambda item: (-item[2].total, item[0].needed_by, str(item[0].id)))
    return scored


def item(need: Need, agency: str, match: Score, base_url: str) -> dict[str, Any]:
    best = sorted((r for r in match.reasons if r.points > 0), key=lambda r: -r.points)[:REASONS]
    return {
        "title": need.title,
        "agency": agency,
        "budget_krw": need.budget_krw,
        "needed_by": need.needed_by,
        "score": round(match.total),
        "reasons": [r.detail for r in best],
        "url": f"{base_url}/needs/{need.id}",
    }


async def _record(session: AsyncSession, member: Member, week_start: date, until: datetime, count: int) -> bool:
    """The member's row for the week; False when another run already wrote it (nothing to send then)."""
    inserted = await session.scalar(
        insert(FirmDigest)
        .values(
            user_id=member.user_id,
            organization_id=member.organization_id,
            week_start=week_start,
            covered_until=until,
            need_count=count,
        )
        .on_conflict_do_nothing(constraint="uq_firm_digests_user_week")
        .returning(FirmDigest.id)
    )
    return inserted is not None


async def digest_firm(
    session: AsyncSession, settings: Settings, firm: Organization, members: list[Member], week_start: date
) -> int:
    """Look at each of the firm's due members once this week; return how many digests were queued."""
    until = now()
    covered = await last_covered(session, [m.user_id for m in members])
    since = {m.user_id: covered.get(m.user_id, until - FIRST_LOOKBACK) for m in members}
    needs = await new_needs(session, firm, min(since.values()), until)
    weights = (await MatchingService(session).settings()).weights
    base_url = settings.app.base_url
    queued = 0
    for member in members:
        mine = [(need, agency) for need, agency in needs if need.created_at > since[member.user_id]]
        found = ranked(mine, firm, weights, member.locale, today(settings.app.tz))
        if not await _record(session, member, week_start, until, len(found)) or not found:
            continue
        queued += await enqueue_many(
            session,
            [
                Mail(
                    dedupe_key=f"digest:{member.user_id.hex}:{week_start.isoformat()}",
                    recipient=member.email,
                    locale=member.locale,
                    template="firm_digest",
                    context={
                        "user_name": member.name,
                        "organization_name": firm.name,
                        "count": len(found),
                        "needs": [item(n, a, s, base_url) for n, a, s in found[:LISTED]],
                        "more": max(0, len(found) - LISTED),
                        "base_url": base_url,
                        "item_url": f"{base_url}/needs",
                        "settings_url": f"{base_url}/me/notifications",
                    },
                    tz=settings.app.timezone,
                )
            ],
        )
    return queued


async def send_digests(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """The job: from Monday 09:00 on, each due member's digest for the week, one transaction per firm."""
    moment, tz = now(), settings.app.tz
    week_start = week_of(moment, tz)
    if moment < opens_at(week_start, tz):
        return 0
    async with sessionmaker() as session:
        members = await due_members(session, week_start)
    by_firm: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for member in members:
        by_firm[member.organization_id].append(member)
    queued = 0
    for firm_id, firm_members in by_firm.items():
        async with sessionmaker.begin() as session:
            # Another instance at work on this firm: leave it to that one (the unique row per member and
            # week would stop a second mail anyway; this saves scoring the needs twice).
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(DIGEST_LOCK, firm_lock_key(firm_id)))):
                continue
            firm = await session.get(Organization, firm_id)
            if firm is not None:
                queued += await digest_firm(session, settings, firm, firm_members, week_start)
    return queued
