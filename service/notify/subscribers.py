"""Domain events → outbox rows, inside the transaction that published them.

Except a first-come booking's: it only records one notice (service.notify.notices) in the booking
transaction, and the dispatcher expands it with `expand_notices` into the booked mails, reminders
and follow-ups from the meeting as it is then (a meeting cancelled before that mails nobody).

The events are those of the registry, fairs, contracts and matching domains (their `events.py`).
Every mail takes its base URL and time zone, and every invite its organizer, from the settings
the publishing session carries (the app's, the job's or the command's), passed to each handler.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import MailPreferencesChanged
from service.accounts.models import User
from service.config import Settings
from service.contracts.events import ContractReported
from service.db.engine import session_settings
from service.fairs.calendar import (
    MeetingParties,
    invite_method,
    meeting_invite_data,
    meeting_parties,
    parties_of_meetings,
)
from service.fairs.events import (
    FairFinalized,
    FairScheduled,
    MeetingCancelled,
    MeetingMoved,
    MeetingRated,
    MeetingRequestAccepted,
    MeetingRequestCreated,
    MeetingRequestDeclined,
)
from service.fairs.models import (
    Fair,
    FairParticipant,
    Meeting,
    MeetingEvent,
    MeetingRating,
    MeetingRequest,
    MeetingStatus,
)
from service.lib.clock import now, today
from service.lib.events import subscribe
from service.matching.events import ShortlistInvited
from service.needs.events import NeedResponded, NeedResponseReplied
from service.notify import (
    consultation_mails,  # noqa: F401  (registers the consultations' subscribers)
    notices,
    program_mails,  # noqa: F401 (registers the session mails' handlers)
)
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.notices import delete_notices, drop_notice, take_notices
from service.notify.service import InviteAttachment, Mail, cancel_optional, cancel_pending, enqueue_many
from service.registry.events import OrganizationRejected, OrganizationVerified
from service.registry.models import Organization

REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))
# After the meeting (counted from its end): a day later, rate it and report any contract; then
# ask at about 1, 3 and 6 months whether a contract came of it (stopped by ContractReported).
FOLLOW_UPS = (
    ("rating", "1d", "meeting_followup_rating", timedelta(days=1)),
    ("contract", "1m", "meeting_followup_contract", timedelta(days=30)),
    ("contract", "3m", "meeting_followup_contract", timedelta(days=91)),
    ("contract", "6m", "meeting_followup_contract", timedelta(days=182)),
)


def _pending_prefixes(meeting_id: uuid.UUID) -> tuple[str, ...]:
    """Dedupe-key prefixes of the mails a meeting has queued for later."""
    return (f"reminder:{meeting_id.hex}:", f"followup:{meeting_id.hex}:")


async def _users_of(session: AsyncSession, organization_id: uuid.UUID) -> list[User]:
    rows = await session.scalars(
        select(User).where(User.organization_id == organization_id, User.is_active.is_(True)).order_by(User.email)
    )
    return list(rows.all())


def _stamp(moment: datetime | None) -> str:
    return str(int(moment.timestamp())) if moment else "0"


async def mail_organization(
    session: AsyncSession, settings: Settings, organization: Organization, template: str, key: str, **values: Any
) -> int:
    """Queue `template` to every active user of `organization`, once per `key` and user (an optional
    kind of mail, see service.notify.preferences, skips the users who turned it off).

    Every such mail's context has the user's and the organization's names and the base URL,
    plus `values`. Returns how many mails were new.
    """
    base = {"organization_name": organization.name, "base_url": settings.app.base_url}
    return await enqueue_many(
        session,
        [
            Mail(
                dedupe_key=f"{key}:{user.id.hex}",
                recipient=user.email,
                locale=user.locale,
                template=template,
                context={"user_name": user.name, **base, **values},
                tz=settings.app.timezone,
            )
            for user in await _users_of(session, organization.id)
        ],
    )


async def _organization_mail(session: AsyncSession, settings: Settings, organization: Organization, kind: str) -> None:
    key = f"{kind}:{organization.id.hex}:{_stamp(organization.status_changed_at)}"
    item_url = f"{settings.app.base_url}/me" if kind == "organization_rejected" else f"{settings.app.base_url}/"
    await mail_organization(
        session, settings, organization, kind, key, reason=organization.status_reason or "", item_url=item_url
    )


@subscribe(OrganizationVerified)
async def on_organization_verified(session: AsyncSession, event: OrganizationVerified, settings: Settings) -> None:
    await _organization_mail(session, settings, event.organization, "organization_verified")


@subscribe(OrganizationRejected)
async def on_organization_rejected(session: AsyncSession, event: OrganizationRejected, settings: Settings) -> None:
    await _organization_mail(session, settings, event.organization, "organization_rejected")


def _invite(meeting: Meeting, parties: MeetingParties, settings: Settings) -> InviteAttachment:
    """The meeting's invite as a recipe: the dispatcher renders the .ics when it sends the mails."""
    return InviteAttachment(meeting_invite_data(meeting, parties, settings), invite_method(meeting))


def meeting_url(settings: Settings, meeting: Meeting) -> str:
    """Where a meeting's mail sends its reader: the agenda listing it (rate, move, cancel, join)."""
    base = settings.app.base_url
    return f"{base}/fairs/{meeting.fair_id}/agenda" if meeting.fair_id else f"{base}/"


def _context(
    meeting: Meeting, parties: MeetingParties, settings: Settings, user: User, own: Organization, other: Organization
) -> dict[str, Any]:
    return {
        "user_name": user.name,
        "organization_name": own.name,
        "other_name": other.name,
        "fair_name": parties.fair.name if parties.fair else "",
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "room_url": parties.room_url or "",
        "base_url": settings.app.base_url,
        "item_url": meeting_url(settings, meeting),
    }


def _agenda_url(meeting: Meeting, settings: Settings) -> str:
    """The meeting's row on its fair's agenda, where its outcome and rating are recorded."""
    if meeting.fair_id is None:
        return f"{settings.app.base_url}/"
    return f"{settings.app.base_url}/fairs/{meeting.fair_id}/agenda#meeting-{meeting.id}"


def _meeting_mails(
    meeting: Meeting,
    parties: MeetingParties,
    settings: Settings,
    kind: str,
    key: str,
    extra: dict[str, Any] | None = None,
) -> list[Mail]:
    """The mail of `kind` to everyone of both sides, with the meeting's invite (a cancellation once
    the meeting is cancelled)."""
    invite = _invite(meeting, parties, settings)
    return [
        Mail(
            dedupe_key=f"meeting:{meeting.id.hex}:{key}:{user.id.hex}",
            recipient=user.email,
            locale=user.locale,
            template=kind,
            context={**_context(meeting, parties, settings, user, own, other), **(extra or {})},
            attachments=[invite],
            tz=settings.app.timezone,
        )
        for user, own, other in parties.people
    ]


def _follow_up_link(family: str, meeting: Meeting, settings: Settings) -> dict[str, str]:
    """The contract questions link to the contract form for the meeting; the rating request to the agenda."""
    if family == "contract":
        return {"item_url": f"{settings.app.base_url}/contracts/new?meeting_id={meeting.id}"}
    return {"item_url": _agenda_url(meeting, settings)}


def _reminders(meeting: Meeting, parties: MeetingParties, settings: Settings) -> list[Mail]:
    current = now()
    tz = settings.app.timezone
    mails: list[Mail] = []
    for label, before in REMINDERS:
        due = meeting.starts_at - before
        if due <= current:
            continue  # booked too late for this reminder
        mails += [
            Mail(
                dedupe_key=f"reminder:{meeting.id.hex}:{label}:{_stamp(meeting.starts_at)}:{user.id.hex}",
                recipient=user.email,
                locale=user.locale,
                template=f"meeting_reminder_{label}",
                context=_context(meeting, parties, settings, user, own, other),
                due_at=due,
                tz=tz,
            )
            for user, own, other in parties.people
        ]
    for family, label, template, after in FOLLOW_UPS:
        if meeting.ends_at + after <= current:
            continue  # a meeting recorded after the fact: don't send a backlog of questions at once
        mails += [
            Mail(
                dedupe_key=f"followup:{meeting.id.hex}:{family}:{label}:{_stamp(meeting.starts_at)}:{user.id.hex}",
                recipient=user.email,
                locale=user.locale,
                template=template,
                context={
                    **_context(meeting, parties, settings, user, own, other),
                    "months": label,
                    "agenda_url": _agenda_url(meeting, settings),
                    **_follow_up_link(family, meeting, settings),
                },
                due_at=meeting.ends_at + after,
                tz=tz,
            )
            for user, own, other in parties.people
        ]
    return mails


def booking_mails(meeting: Meeting, parties: MeetingParties, settings: Settings) -> list[Mail]:
    """A booked meeting's mails as it is now: the booked mail with its invite to everyone of both
    sides, their reminders and follow-up questions."""
    mails = _meeting_mails(meeting, parties, settings, "meeting_booked", f"booked:{meeting.sequence}")
    return mails + _reminders(meeting, parties, settings)


async def expand_notices(session: AsyncSession, settings: Settings | None = None, limit: int = 50) -> int:
    """Expand up to `limit` pending booking notices into their mails, in the caller's transaction,
    from each meeting's state now (a cancelled meeting's notice expands to nothing; a moved one's to
    the booked mail at its current time and sequence), and delete them. Returns how many were taken."""
    settings = settings or session_settings(session)
    taken = await take_notices(session, notices.BOOKED, limit)
    if not taken:
        return 0
    # A fresh statement after the locks: it sees every change committed before them, and none can follow.
    query = select(Meeting).where(Meeting.id.in_(taken)).execution_options(populate_existing=True)
    meetings = [m for m in (await session.scalars(query)).all() if m.status != MeetingStatus.CANCELLED]
    parties = await parties_of_meetings(session, [m for m in meetings if not m.provisional])
    await enqueue_many(
        session, [mail for m in meetings if m.id in parties for mail in booking_mails(m, parties[m.id], settings)]
    )
    await delete_notices(session, notices.BOOKED, taken)
    return len(taken)


@subscribe(MeetingMoved)
async def on_meeting_moved(session: AsyncSession, event: MeetingMoved, settings: Settings) -> None:
    meeting = event.meeting
    if meeting.provisional:
        return
    for prefix in _pending_prefixes(meeting.id):
        await cancel_pending(session, prefix)
    parties = await meeting_parties(session, meeting)
    mails = _meeting_mails(
        meeting,
        parties,
        settings,
        "meeting_moved",
        f"moved:{meeting.sequence}:{_stamp(meeting.starts_at)}",
        {"previous_starts_at": event.previous_starts_at},
    )
    await enqueue_many(session, mails + _reminders(meeting, parties, settings))


@subscribe(MeetingCancelled)
async def on_meeting_cancelled(session: AsyncSession, event: MeetingCancelled, settings: Settings) -> None:
    meeting = event.meeting
    if meeting.provisional:
        return  # nobody was sent an invite for it
    for prefix in _pending_prefixes(meeting.id):
        await cancel_pending(session, prefix)
    if await drop_notice(session, meeting.id, notices.BOOKED):
        return  # cancelled before its booking's mails were queued: nobody was told of it
    parties = await meeting_parties(session, meeting)
    await enqueue_many(session, _meeting_mails(meeting, parties, settings, "meeting_cancelled", "cancelled"))


async def request_mail(
    session: AsyncSession, settings: Settings, request: MeetingRequest, kind: str, to_agency: bool
) -> None:
    """Mail one side of a meeting request (`templates/emails/meeting_request_<kind>`)."""
    agency = await session.get(Organization, request.agency_id)
    firm = await session.get(Organization, request.firm_id)
    fair = await session.get(Fair, request.fair_id)
    if agency is None or firm is None or fair is None:
        raise LookupError(f"meeting request {request.id} refers to a missing organization or fair")
    own, other = (agency, firm) if to_agency else (firm, agency)
    await mail_organization(
        session,
        settings,
        own,
        f"meeting_request_{kind}",
        f"request:{request.id.hex}:{kind}",
        other_name=other.name,
        fair_name=fair.name,
        message=request.message if to_agency else "",
        item_url=f"{settings.app.base_url}/fairs/{fair.id}/requests",
    )


@subscribe(MeetingRequestCreated)
async def on_request_created(session: AsyncSession, event: MeetingRequestCreated, settings: Settings) -> None:
    await request_mail(session, settings, event.request, "received", to_agency=True)


@subscribe(MeetingRequestAccepted)
async def on_request_accepted(session: AsyncSession, event: MeetingRequestAccepted, settings: Settings) -> None:
    await request_mail(session, settings, event.request, "accepted", to_agency=False)


@subscribe(MeetingRequestDeclined)
async def on_request_declined(session: AsyncSession, event: MeetingRequestDeclined, settings: Settings) -> None:
    await request_mail(session, settings, event.request, "declined", to_agency=False)


@subscribe(ContractReported)
async def on_contract_reported(session: AsyncSession, event: ContractReported, settings: Settings) -> None:
    """Stop asking whether a contract came of the meeting, and ask the other side to confirm it."""
    contract = event.contract
    if contract.meeting_id is not None:
        await cancel_pending(session, f"followup:{contract.meeting_id.hex}:contract:")
    side = str(contract.reported_side)
    if side not in ("agency", "firm"):
        return  # staff record contracts they have already checked; nobody needs to confirm
    reporter_id, other_id = (
        (contract.agency_id, contract.firm_id) if side == "agency" else (contract.firm_id, contract.agency_id)
    )
    reporter = await session.get(Organization, reporter_id)
    other = await session.get(Organization, other_id)
    if reporter is None or other is None:
        return
    await mail_organization(
        session,
        settings,
        other,
        "contract_reported",
        f"contract:{contract.id.hex}:confirm",
        other_name=reporter.name,
        title=contract.title,
        amount_krw=contract.amount_krw,
        contract_date=contract.contract_date,
        item_url=f"{settings.app.base_url}/contracts/{contract.id}",
    )


@subscribe(FairScheduled)
async def on_fair_scheduled(session: AsyncSession, event: FairScheduled, settings: Settings) -> None:
    """The auto-scheduler placed the requests: tell every participant its meetings, that they are
    provisional, and by when to object (the day before the fair; invitations follow the final agenda)."""
    fair = event.fair
    left_out = set(event.unscheduled)
    participants = (await session.scalars(select(FairParticipant).where(FairParticipant.fair_id == fair.id))).all()
    live = select(Meeting).where(Meeting.fair_id == fair.id, Meeting.status != MeetingStatus.CANCELLED)
    meetings = (await session.scalars(live)).all()
    requests = (
        (await session.scalars(select(MeetingRequest).where(MeetingRequest.id.in_(left_out)))).all() if left_out else []
    )
    for participant in participants:
        organization = await session.get(Organization, participant.organization_id)
        if organization is None:
            continue
        own_meetings = sorted(
            (m for m in meetings if participant.organization_id in (m.agency_id, m.firm_id)), key=lambda m: m.starts_at
        )
        not_placed = sum(1 for r in requests if participant.organization_id in (r.agency_id, r.firm_id))
        first_day = date.fromisoformat(str(fair.days[0]["date"])) if fair.days else today()
        await mail_organization(
            session,
            settings,
            organization,
            "fair_scheduled",
            f"fair:{fair.id.hex}:scheduled:{_stamp(fair.scheduled_at)}",
            fair_name=fair.name,
            meeting_count=len(own_meetings),
            meeting_times=[m.starts_at for m in own_meetings],
            not_placed=not_placed,
            object_by=max(today(), first_day - timedelta(days=1)),
            agenda_url=f"{settings.app.base_url}/fairs/{fair.id}/agenda",
            item_url=f"{settings.app.base_url}/fairs/{fair.id}/agenda",
        )


@subscribe(ShortlistInvited)
async def on_shortlist_invited(session: AsyncSession, event: ShortlistInvited, settings: Settings) -> None:
    """An agency invited a firm from its shortlist for a need."""
    invitation, need = event.invitation, event.need
    agency = await session.get(Organization, need.agency_id)
    firm = await session.get(Organization, invitation.firm_id)
    if agency is None or firm is None:
        return
    await mail_organization(
        session,
        settings,
        firm,
        "shortlist_invited",
        f"invitation:{invitation.id.hex}",
        other_name=agency.name,
        need_title=need.title,
        budget_krw=need.budget_krw,
        needed_by=need.needed_by,
        message=invitation.message or "",
        item_url=f"{settings.app.base_url}/needs/{need.id}",
    )


async def _need_parties(
    session: AsyncSession, event: NeedResponded | NeedResponseReplied
) -> tuple[Organization, Organization] | None:
    """The need's agency and the responding firm (None when either is gone)."""
    agency = await session.get(Organization, event.need.agency_id)
    firm = await session.get(Organization, event.response.firm_id)
    return (agency, firm) if agency is not None and firm is not None else None


@subscribe(NeedResponded)
async def on_need_responded(session: AsyncSession, event: NeedResponded, settings: Settings) -> None:
    """A firm responded to a need (관심 표명): its agency's users get the message and a link to the need."""
    response, need = event.response, event.need
    parties = await _need_parties(session, event)
    if parties is None:
        return
    agency, firm = parties
    await mail_organization(
        session,
        settings,
        agency,
        "need_response_received",
        f"need-response:{response.id.hex}",
        other_name=firm.name,
        need_title=need.title,
        need_url=f"{settings.app.base_url}/needs/{need.id}#response-{response.id}",
        message=response.message,
        file_url=response.file_url or "",
        proposed_at=response.proposed_at,
    )


@subscribe(NeedResponseReplied)
async def on_need_response_replied(session: AsyncSession, event: NeedResponseReplied, settings: Settings) -> None:
    """The agency replied to a firm's response: the firm's users get the reply (each reply once)."""
    response, need = event.response, event.need
    parties = await _need_parties(session, event)
    if parties is None:
        return
    agency, firm = parties
    await mail_organization(
        session,
        settings,
        firm,
        "need_response_replied",
        f"need-reply:{response.id.hex}:{event.reply.id.hex}",
        other_name=agency.name,
        need_title=need.title,
        need_url=f"{settings.app.base_url}/needs/{need.id}",
        message=event.reply.message,
    )


NO_DEAL = (MeetingRating.DID_NOT_TAKE_PLACE, MeetingRating.INSUFFICIENT_INTEREST)


async def stop_rating_requests(session: AsyncSession, meeting_id: uuid.UUID | None = None) -> int:
    """Cancel the queued rating requests to the users of a side that has rated its meeting
    (`meeting_id`'s, or every meeting's). Keys look like
    `followup:<meeting hex>:rating:<label>:<stamp>:<user hex>`."""
    hex_of = func.replace(cast(Meeting.id, String), "-", "")
    rated = (
        select(User.id)
        .join(Meeting, hex_of == func.split_part(OutboxMessage.dedupe_key, ":", 2))
        .where(
            func.replace(cast(User.id, String), "-", "") == func.split_part(OutboxMessage.dedupe_key, ":", 6),
            or_(
                and_(User.organization_id == Meeting.agency_id, Meeting.agency_rating.is_not(None)),
                and_(User.organization_id == Meeting.firm_id, Meeting.firm_rating.is_not(None)),
            ),
        )
    )
    prefix = f"followup:{meeting_id.hex}:rating:" if meeting_id else "followup:%:rating:"
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.dedupe_key.like(prefix + "%"),
            rated.exists(),
        )
        .values(status=OutboxStatus.CANCELLED, updated_at=func.now())
        .returning(OutboxMessage.id)
    )
    return len(result.all())


@subscribe(MeetingRated)
async def on_meeting_rated(session: AsyncSession, event: MeetingRated, settings: Settings) -> None:
    """A side that rated is not asked to rate again; either side saying there is no deal (or that
    the meeting did not happen) stops the contract questions."""
    meeting = event.meeting
    await session.flush()  # the rating must be in the database for the statement below
    await stop_rating_requests(session, meeting.id)
    if meeting.agency_rating in NO_DEAL or meeting.firm_rating in NO_DEAL:
        await cancel_pending(session, f"followup:{meeting.id.hex}:contract:")


async def _provisional_starts(session: AsyncSession, meeting_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Where each meeting was in the provisional agenda, for those moved since: the first move's `from`
    (the auto-scheduler writes no history row, so a meeting never moved is where it was placed)."""
    if not meeting_ids:
        return {}
    rows = await session.execute(
        select(MeetingEvent.meeting_id, MeetingEvent.data)
        .where(MeetingEvent.meeting_id.in_(meeting_ids), MeetingEvent.kind == "moved")
        .order_by(MeetingEvent.at.desc())
    )
    found: dict[uuid.UUID, datetime] = {}
    for meeting_id, data in rows.tuples():
        if isinstance(data, dict) and data.get("from"):
            found[meeting_id] = datetime.fromisoformat(str(data["from"]))  # the earliest move wins (rows newest first)
    return found


@subscribe(FairFinalized)
async def on_fair_finalized(session: AsyncSession, event: FairFinalized, settings: Settings) -> None:
    """The final agenda is out: each meeting it made final gets its invite and reminders, in a mail
    that says what changed since the provisional agenda (nothing, or the old → new time). The dedupe
    keys make a repeated event harmless."""
    query = select(Meeting).where(
        Meeting.fair_id == event.fair.id,
        Meeting.id.in_(event.meeting_ids),
        Meeting.status == MeetingStatus.BOOKED,
        Meeting.provisional.is_(False),
    )
    meetings = (await session.scalars(query.order_by(Meeting.starts_at))).all()
    before = await _provisional_starts(session, [m.id for m in meetings])
    for meeting in meetings:
        previous = before.get(meeting.id)
        moved = previous if previous is not None and previous != meeting.starts_at else None
        parties = await meeting_parties(session, meeting)
        extra = {"provisional_starts_at": moved}
        mails = _meeting_mails(meeting, parties, settings, "meeting_confirmed", "final", extra)
        await enqueue_many(session, mails + _reminders(meeting, parties, settings))


@subscribe(MailPreferencesChanged)
async def on_mail_preferences_changed(session: AsyncSession, event: MailPreferencesChanged, settings: Settings) -> None:
    """A user turned optional mails off: the ones already queued for them (reminders and follow-up
    questions of booked meetings) are not sent either."""
    await cancel_optional(session, event.email, event.turned_off)


# The member invitations' mails live in their own module; importing it registers them.
import service.notify.member_mails  # noqa: E402, F401

# The account mails (password reset, email change and confirmation) live in their own module;
# importing it here registers its handlers with the others.
from service.notify import account_mails  # noqa: E402, F401
