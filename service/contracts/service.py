"""Contract rules: report, confirm, correct (with history), and a firm's confirmed totals.

Either party (or staff) reports a contract; the other party or staff confirms it; only
confirmed contracts count in figures. A correction keeps the old → new values in
`contract_revisions`, and a confirmed contract that is changed returns to `reported`, so
the other side must confirm the corrected figures again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.picker import word_condition
from service.contracts.events import ContractChanged, ContractConfirmed, ContractReported
from service.contracts.models import (
    MAX_AMOUNT_KRW,
    Contract,
    ContractChannel,
    ContractRevision,
    ContractStatus,
    ReporterSide,
)
from service.contracts.schemas import ContractIn, ContractPatch
from service.fairs.models import Fair, Meeting, MeetingStatus
from service.identity.audit import diff, record_audit
from service.identity.principal import Principal
from service.lib.clock import SEOUL, now, today
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish
from service.needs.models import Need
from service.registry.models import CategoryRow, Organization, OrganizationKind

EDITABLE = ("amount_krw", "contract_date", "title", "category_code", "meeting_id", "need_id", "channel")
EARLIEST_DATE = date(2000, 1, 1)


@dataclass(frozen=True)
class ConfirmedTotals:
    contracts: int
    amount_krw: int


def side_of(actor: Principal) -> ReporterSide:
    if actor.is_staff:
        return ReporterSide.STAFF
    return ReporterSide.AGENCY if actor.is_agency else ReporterSide.FIRM


def _visible(viewer: Principal) -> list[Any]:
    """The contracts a viewer may see: staff all, an organization those it is a party to."""
    if viewer.is_staff:
        return []
    return [or_(Contract.agency_id == viewer.organization_id, Contract.firm_id == viewer.organization_id)]


MAX_PARTY_WORDS = 10


@dataclass(frozen=True)
class ContractParties:
    """Who a contract list is narrowed to: a fair, an agency, a firm, and `party`, words found in either
    party's name, business number or district."""

    fair_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    firm_id: uuid.UUID | None = None
    party: str = ""

    def conditions(self) -> list[Any]:
        chosen = (
            (Contract.fair_id, self.fair_id),
            (Contract.agency_id, self.agency_id),
            (Contract.firm_id, self.firm_id),
        )
        out: list[Any] = [column == value for column, value in chosen if value is not None]
        words = self.party.split()[:MAX_PARTY_WORDS]
        if words:  # every word in the name, business number or district, as the organization pickers read it
            named = select(Organization.id).where(and_(*(word_condition(w) for w in words)))
            out.append(or_(Contract.agency_id.in_(named), Contract.firm_id.in_(named)))
        return out


def can_see(viewer: Principal, contract: Contract) -> bool:
    return viewer.is_staff or viewer.owns(contract.agency_id) or viewer.owns(contract.firm_id)


def can_confirm(actor: Principal, contract: Contract) -> bool:
    """The other party, or staff. Whoever reported (or last corrected) cannot confirm it."""
    if contract.status != ContractStatus.REPORTED:
        return False
    if actor.is_staff:
        return True
    if actor.is_agency and actor.owns(contract.agency_id):
        return contract.reported_side != ReporterSide.AGENCY
    if actor.is_firm and actor.owns(contract.firm_id):
        return contract.reported_side != ReporterSide.FIRM
    return False


class ContractService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- reads ------------------------------------------------------------------------
    async def get(self, viewer: Principal, contract_id: uuid.UUID, *, for_update: bool = False) -> Contract:
        query = select(Contract).where(Contract.id == contract_id)
        if for_update:
            query = query.with_for_update()
        contract = await self.session.scalar(query)
        if contract is None or not can_see(viewer, contract):
            raise NotFound("No such contract.")
        return contract

    async def list_for(
        self,
        viewer: Principal,
        *,
        status: ContractStatus | None = None,
        year: int | None = None,
        channel: ContractChannel | None = None,
        awaiting_me: bool = False,
        offset: int = 0,
        limit: int = 50,
        parties: ContractParties | None = None,
    ) -> tuple[list[Contract], int]:
        """Contracts the viewer may see, newest first; `awaiting_me`: those they can confirm; `parties`
        narrows to a fair, an agency, a firm or a party's name or business number."""
        conditions = _visible(viewer) + (parties or ContractParties()).conditions()
        if status is not None:
            conditions.append(Contract.status == status)
        if channel is not None:
            conditions.append(Contract.channel == channel)
        if year is not None:
            if not 2000 <= year <= 2100:
                raise ValidationFailed.single("year", "must be between 2000 and 2100")
            conditions.append(Contract.contract_date >= date(year, 1, 1))
            conditions.append(Contract.contract_date < date(year + 1, 1, 1))
        if awaiting_me:
            conditions.append(Contract.status == ContractStatus.REPORTED)
            if not viewer.is_staff:
                conditions.append(Contract.reported_side != side_of(viewer))
        total = await self.session.scalar(select(func.count()).select_from(Contract).where(*conditions)) or 0
        rows = await self.session.scalars(
            select(Contract)
            .where(*conditions)
            .order_by(Contract.contract_date.desc(), Contract.created_at.desc(), Contract.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

    async def fairs_in_contracts(self, viewer: Principal) -> list[tuple[uuid.UUID, str]]:
        """The fairs the viewer's visible contracts came from, newest first (the list's fair filter)."""
        rows = await self.session.execute(
            select(Fair.id, Fair.name)
            .where(Fair.id.in_(select(Contract.fair_id).where(*_visible(viewer), Contract.fair_id.is_not(None))))
            .order_by(Fair.created_at.desc())
        )
        return [(fair_id, name) for fair_id, name in rows.tuples()]

    async def unconfirmed_since(self, before: datetime, limit: int = 10) -> tuple[list[Contract], int]:
        """Staff: contracts reported before `before` and still unconfirmed, oldest first, and their number."""
        condition = (Contract.status == ContractStatus.REPORTED, Contract.created_at < before)
        total = await self.session.scalar(select(func.count()).select_from(Contract).where(*condition)) or 0
        rows = await self.session.scalars(
            select(Contract).where(*condition).order_by(Contract.created_at, Contract.id).limit(limit)
        )
        return list(rows), int(total)

    async def revisions(self, contract: Contract) -> list[ContractRevision]:
        rows = await self.session.scalars(
            select(ContractRevision)
            .where(ContractRevision.contract_id == contract.id)
            .order_by(ContractRevision.at, ContractRevision.id)
        )
        return list(rows)

    async def firm_confirmed_totals(self, firm_id: uuid.UUID) -> ConfirmedTotals:
        """A firm's confirmed contracts (count and 원), all years: the matching track record.

        The matching domain keeps these as counters on the organization; it recomputes them
        from here after `ContractConfirmed` and `ContractChanged`.
        """
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(Contract.amount_krw), 0)).where(
                    Contract.firm_id == firm_id, Contract.status == ContractStatus.CONFIRMED
                )
            )
        ).one()
        return ConfirmedTotals(contracts=int(row[0]), amount_krw=int(row[1]))

    # -- writes -----------------------------------------------------------------------
    async def report(self, actor: Principal, data: ContractIn, *, confirm: bool = False) -> Contract:
        """Record a contract as `reported`. `confirm` is for staff entering a checked contract."""
        actor.require_verified()
        if not (
            actor.is_staff
            or (actor.is_agency and actor.owns(data.agency_id))
            or (actor.is_firm and actor.owns(data.firm_id))
        ):
            raise Forbidden("You can report contracts of your own organization only.")
        if confirm and not actor.is_staff:
            raise Forbidden("Only staff may enter a contract as confirmed.")
        values = {field: getattr(data, field) for field in EDITABLE}
        values = await self._validate(data.agency_id, data.firm_id, values)
        contract = Contract(
            agency_id=data.agency_id,
            firm_id=data.firm_id,
            status=ContractStatus.REPORTED,
            reported_side=side_of(actor),
            reported_by=actor.user_id,
            **values,
        )
        self.session.add(contract)
        await self._flush(contract)
        await self._revision(contract, actor, "reported", {k: {"old": None, "new": v} for k, v in values.items()})
        await publish(self.session, ContractReported(contract, actor))
        if confirm:
            await self.confirm(actor, contract)
        return contract

    async def confirm(self, actor: Principal, contract: Contract) -> Contract:
        actor.require_verified()
        if contract.status == ContractStatus.CONFIRMED:
            raise Conflict("This contract is already confirmed.")
        if not can_confirm(actor, contract):
            raise Forbidden("The other party or support-center staff confirms a reported contract.")
        contract.status = ContractStatus.CONFIRMED
        contract.confirmed_by = actor.user_id
        contract.confirmed_at = now()
        await self._flush(contract)
        await self._revision(contract, actor, "confirmed", {"status": {"old": "reported", "new": "confirmed"}})
        if actor.is_staff:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="contract.confirm",
                target_type="contract",
                target_id=contract.id,
            )
        await publish(self.session, ContractConfirmed(contract, actor))
        return contract

    async def correct(self, actor: Principal, contract: Contract, patch: ContractPatch) -> Contract:
        """Change some fields; history keeps old → new; a confirmed contract returns to `reported`."""
        actor.require_verified()
        if not can_see(actor, contract):
            raise NotFound("No such contract.")
        sent = patch.fields()
        merged = {field: getattr(contract, field) for field in EDITABLE}
        merged.update(sent)
        unlinked = "meeting_id" in sent and sent["meeting_id"] is None and "channel" not in sent
        if unlinked and merged["channel"] == ContractChannel.FAIR:
            merged["channel"] = None  # falls back to the default for an unlinked contract
        values = await self._validate(contract.agency_id, contract.firm_id, merged)
        before = {field: getattr(contract, field) for field in values}
        changes = diff(before, values)
        if not changes:
            return contract
        for field, value in values.items():
            setattr(contract, field, value)
        if contract.status == ContractStatus.CONFIRMED:
            changes["status"] = {"old": "confirmed", "new": "reported"}
            contract.status = ContractStatus.REPORTED
            contract.confirmed_by = None
            contract.confirmed_at = None
        contract.reported_side = side_of(actor)
        contract.reported_by = actor.user_id
        await self._flush(contract)
        await self._revision(contract, actor, "corrected", changes)
        if actor.is_staff:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="contract.correct",
                target_type="contract",
                target_id=contract.id,
                changes=changes,
            )
        await publish(self.session, ContractChanged(contract, actor))
        return contract

    # -- rules ------------------------------------------------------------------------
    async def _validate(
        self,
        agency_id: uuid.UUID,
        firm_id: uuid.UUID,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """Check every field (reporting all errors at once); return the cleaned values."""
        errors = FieldErrors()
        out = dict(values)
        await self._check_parties(agency_id, firm_id, errors)
        check_amount_date_title(out, errors)
        await self._check_category(out, errors)
        meeting = await self._check_meeting(out, agency_id, firm_id, errors)
        if out["need_id"] is not None:
            need = await self.session.get(Need, out["need_id"])
            if need is None or need.agency_id != agency_id:
                errors.add("need_id", "not a need of this agency")
        check_channel(out, meeting, errors)
        errors.raise_if_any()
        return out

    async def _check_parties(self, agency_id: uuid.UUID, firm_id: uuid.UUID, errors: FieldErrors) -> None:
        agency = await self.session.get(Organization, agency_id)
        firm = await self.session.get(Organization, firm_id)
        if agency is None or agency.kind != OrganizationKind.AGENCY:
            errors.add("agency_id", "no such agency")
        if firm is None or firm.kind != OrganizationKind.FIRM:
            errors.add("firm_id", "no such firm")

    async def _check_category(self, out: dict[str, Any], errors: FieldErrors) -> None:
        code = out["category_code"]
        if code is not None:
            code = code.strip().upper() or None
            if code is not None and await self.session.get(CategoryRow, code) is None:
                errors.add("category_code", "unknown category")
            out["category_code"] = code

    async def _check_meeting(
        self, out: dict[str, Any], agency_id: uuid.UUID, firm_id: uuid.UUID, errors: FieldErrors
    ) -> Meeting | None:
        """The meeting the contract came from, when it is one between these parties (a cancelled or
        no-show meeting is returned too, with its error); sets `fair_id` from a valid one."""
        out["fair_id"] = None
        if out["meeting_id"] is None:
            return None
        meeting = await self.session.get(Meeting, out["meeting_id"])
        if meeting is None or meeting.agency_id != agency_id or meeting.firm_id != firm_id:
            errors.add("meeting_id", "not a meeting between this agency and this firm")
            return None
        if meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.NO_SHOW):
            errors.add("meeting_id", f"the meeting was {meeting.status.value.replace('_', '-')}")
        elif out["contract_date"] < meeting.starts_at.astimezone(SEOUL).date():
            errors.add("contract_date", "must not be before the meeting it came from")
        else:
            out["fair_id"] = meeting.fair_id
        return meeting

    async def _revision(self, contract: Contract, actor: Principal, action: str, changes: dict[str, Any]) -> None:
        from service.identity.audit import jsonable

        self.session.add(
            ContractRevision(
                contract_id=contract.id,
                action=action,
                actor_id=actor.user_id,
                actor_side=side_of(actor).value,
                changes=jsonable(changes),
                at=now(),
            )
        )
        await self.session.flush()

    async def _flush(self, contract: Contract) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            message = str(exc.orig)
            if "meeting_parties" in message:
                raise ValidationFailed.single("meeting_id", "not a meeting between this agency and this firm") from None
            if "amount_range" in message:
                raise ValidationFailed.single("amount_krw", "out of range") from None
            raise
        await self.session.refresh(contract)  # server-set timestamps, without lazy loads later


def check_amount_date_title(out: dict[str, Any], errors: FieldErrors) -> None:
    """The amount is a whole number of 원 from 1 to MAX_AMOUNT_KRW, the date between 2000 and today,
    the title 1 to 200 characters once stripped (stored stripped)."""
    amount = out["amount_krw"]
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_KRW:
        errors.add("amount_krw", f"must be a whole number of 원 from 1 to {MAX_AMOUNT_KRW:,}")
    day: date = out["contract_date"]
    if day > today():
        errors.add("contract_date", "must not be in the future")
    elif day < EARLIEST_DATE:
        errors.add("contract_date", "must be in 2000 or later")
    title = (out["title"] or "").strip()
    if not 1 <= len(title) <= 200:
        errors.add("title", "must be 1 to 200 characters")
    out["title"] = title


def check_channel(out: dict[str, Any], meeting: Meeting | None, errors: FieldErrors) -> None:
    """Without a channel, a contract from a fair meeting is `fair`, from another meeting
    `daily_consultation`, else `other`; a `fair` contract must name its meeting."""
    channel = out["channel"]
    if channel is None:
        channel = (
            ContractChannel.FAIR
            if meeting is not None and meeting.fair_id
            else (ContractChannel.DAILY_CONSULTATION if meeting is not None else ContractChannel.OTHER)
        )
    try:
        channel = ContractChannel(channel)
    except ValueError:
        errors.add("channel", "must be one of " + ", ".join(c.value for c in ContractChannel))
    else:
        if channel == ContractChannel.FAIR and out["meeting_id"] is None:
            errors.add("meeting_id", "a contract from a fair names the meeting it came from")
    out["channel"] = channel
