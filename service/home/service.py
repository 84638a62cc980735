"""What each role's home shows, gathered through the other domains' services (this domain owns no table).

Every item carries the page where its action happens; the templates in `templates/home/` only lay it out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.service import record_home_visit
from service.contracts.models import Contract
from service.contracts.repository import OrganizationLookup
from service.contracts.service import ContractService
from service.contracts.targets import TargetProgress, TargetRow, TargetService
from service.fairs.models import Fair, Meeting, MeetingRequest, RequestStatus
from service.fairs.requests import RequestService
from service.fairs.service import FairService
from service.identity.principal import Principal
from service.lib.clock import now, today
from service.matching.service import MatchingService
from service.matching.tasks import OpenTask, StaffTaskService
from service.needs.models import Need
from service.needs.responses import NeedResponseService
from service.needs.service import NeedService
from service.notify.models import OutboxMessage
from service.notify.service import OutboxService
from service.registry.service import OrganizationService

LISTED = 10  # items per section; each section links to its full list
CERTIFICATION_NOTICE_DAYS = 60
STALE_CONTRACT_DAYS = 14


@dataclass(frozen=True)
class MeetingItem:
    meeting: Meeting
    other_name: str
    fair_name: str

    @property
    def agenda_url(self) -> str:
        return f"/fairs/{self.meeting.fair_id}/agenda#meeting-{self.meeting.id}" if self.meeting.fair_id else "/fairs"


@dataclass(frozen=True)
class RequestItem:
    request: MeetingRequest
    other_name: str
    fair_name: str
    waited: timedelta


@dataclass(frozen=True)
class ContractItem:
    contract: Contract
    agency_name: str
    firm_name: str


@dataclass(frozen=True)
class NeedItem:
    need: Need
    matches: int = 0
    is_new: bool = False
    responses: int = 0


@dataclass(frozen=True)
class AgencyHome:
    needs: list[NeedItem]
    needs_total: int
    requests: list[RequestItem]
    meetings: list[MeetingItem]
    contracts: list[ContractItem]
    progress: TargetProgress | None


@dataclass(frozen=True)
class FirmHome:
    needs: list[NeedItem]
    requests: list[RequestItem]
    meetings: list[MeetingItem]
    to_rate: list[MeetingItem]
    contracts: list[ContractItem]
    certified_until: date | None


@dataclass(frozen=True)
class StaffHome:
    pending_organizations: int
    pending_changes: int
    fairs: list[tuple[Fair, int]]
    mails: list[OutboxMessage]
    mail_titles: dict[uuid.UUID, str | None]
    mails_total: int
    stale_contracts: list[ContractItem]
    stale_total: int
    totals: TargetRow
    year: int
    tasks: list[OpenTask]


class HomeService:
    """Reads each role's home; writes only the time of the visit (which marks what is new)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.needs = NeedService(session)
        self.matching = MatchingService(session)
        self.fairs = FairService(session)
        self.requests = RequestService(session)
        self.contracts = ContractService(session)
        self.targets = TargetService(session)
        self.outbox = OutboxService(session)
        self.organizations = OrganizationService(session)
        self.responses = NeedResponseService(session)
        self.tasks = StaffTaskService(session)

    async def agency(self, viewer: Principal) -> AgencyHome:
        assert viewer.organization_id is not None
        needs, needs_total = await self.needs.list_own(viewer, "open", 0, LISTED)
        counts = await self.matching.match_counts(needs)
        responses = await self.responses.counts([n.id for n in needs])
        waiting = [
            r
            for r in await self.requests.inbox(viewer)
            if r.status == RequestStatus.PENDING and r.agency_id == viewer.organization_id
        ]
        waiting.sort(key=lambda r: r.created_at)
        return AgencyHome(
            needs=[NeedItem(n, counts.get(n.id, 0), responses=responses.get(n.id, 0)) for n in needs],
            needs_total=needs_total,
            requests=await self._request_items(waiting[:LISTED], lambda r: r.firm_id),
            meetings=await self._upcoming(viewer),
            contracts=await self._awaiting_me(viewer),
            progress=await self.targets.progress(viewer, today().year),
        )

    async def firm(self, viewer: Principal, locale: str) -> FirmHome:
        assert viewer.organization_id is not None
        previous = await record_home_visit(self.session, viewer.user_id)
        ranked = [need for need, _ in await self.matching.needs_for_firm(viewer, locale)]
        ranked.sort(key=lambda n: (n.created_at, str(n.id)), reverse=True)
        mine = [r for r in await self.requests.inbox(viewer) if r.firm_id == viewer.organization_id]
        mine.sort(key=lambda r: r.created_at, reverse=True)
        org = await self.organizations.get(viewer.organization_id)
        expiry = org.certified_until
        notice_until = today() + timedelta(days=CERTIFICATION_NOTICE_DAYS)
        return FirmHome(
            needs=[NeedItem(n, is_new=previous is None or n.created_at > previous) for n in ranked[:LISTED]],
            requests=await self._request_items(mine[:LISTED], lambda r: r.agency_id),
            meetings=await self._upcoming(viewer),
            to_rate=await self._meeting_items(await self.fairs.meetings_to_rate(viewer, LISTED), viewer),
            contracts=await self._awaiting_me(viewer),
            certified_until=expiry if expiry is not None and expiry <= notice_until else None,
        )

    async def staff(self, viewer: Principal) -> StaffHome:
        _, pending_organizations = await self.organizations.pending_page(None, 0, 1)
        _, pending_changes = await self.organizations.pending_changes_page(0, 1)
        mails, mails_total = await self.outbox.troubled(LISTED)
        stale, stale_total = await self.contracts.unconfirmed_since(now() - timedelta(days=STALE_CONTRACT_DAYS), LISTED)
        year = today().year
        return StaffHome(
            pending_organizations=pending_organizations,
            pending_changes=pending_changes,
            fairs=await self.fairs.in_progress(),
            mails=mails,
            mail_titles=OutboxService.titles(mails),
            mails_total=mails_total,
            stale_contracts=await self._contract_items(stale),
            stale_total=stale_total,
            totals=(await self.targets.targets(viewer, year)).total,
            year=year,
            tasks=await self.tasks.open_tasks(viewer, LISTED),
        )

    async def _upcoming(self, viewer: Principal) -> list[MeetingItem]:
        assert viewer.organization_id is not None
        return await self._meeting_items(await self.fairs.upcoming_meetings(viewer.organization_id, LISTED), viewer)

    async def _awaiting_me(self, viewer: Principal) -> list[ContractItem]:
        rows, _ = await self.contracts.list_for(viewer, awaiting_me=True, limit=LISTED)
        return await self._contract_items(rows)

    async def _contract_items(self, rows: list[Contract]) -> list[ContractItem]:
        names = await OrganizationLookup(self.session).names({c.agency_id for c in rows} | {c.firm_id for c in rows})
        return [ContractItem(c, names.get(c.agency_id, ""), names.get(c.firm_id, "")) for c in rows]

    async def _meeting_items(self, meetings: list[Meeting], viewer: Principal) -> list[MeetingItem]:
        names = await self.fairs.organization_names({m.agency_id for m in meetings} | {m.firm_id for m in meetings})
        fairs = await self.fairs.fair_names({m.fair_id for m in meetings if m.fair_id})
        return [
            MeetingItem(
                m,
                names.get(m.agency_id if viewer.owns(m.firm_id) else m.firm_id, ""),
                fairs.get(m.fair_id, "") if m.fair_id else "",
            )
            for m in meetings
        ]

    async def _request_items(
        self, requests: list[MeetingRequest], other: Callable[[MeetingRequest], uuid.UUID]
    ) -> list[RequestItem]:
        names = await self.fairs.organization_names({other(r) for r in requests})
        fairs = await self.fairs.fair_names({r.fair_id for r in requests})
        moment = now()
        return [
            RequestItem(r, names.get(other(r), ""), fairs.get(r.fair_id, ""), moment - r.created_at) for r in requests
        ]


def waited_label(waited: timedelta) -> tuple[str, int]:
    """How long a request has waited, in its largest whole unit: ("days", 2), ("hours", 5) or ("minutes", 3)."""
    if waited >= timedelta(days=1):
        return "days", waited.days
    if waited >= timedelta(hours=1):
        return "hours", int(waited.total_seconds() // 3600)
    return "minutes", max(1, int(waited.total_seconds() // 60))
