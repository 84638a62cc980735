"""Staff tasks: work asked of the support center. Today one kind, "reach_firm": an agency wants to get in
touch with a firm about a need, but the firm has no user account yet, so nobody would read an invitation;
staff reach the firm by other means. `open_tasks` lists what is still to do (for the staff home)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import User
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Forbidden, NotFound
from service.matching.models import StaffTask
from service.needs.models import Need
from service.registry.models import Organization

REACH_FIRM = "reach_firm"


@dataclass(frozen=True)
class OpenTask:
    """An open staff task with the organization to reach and, when there is one, the need it is about."""

    task: StaffTask
    organization: Organization
    need: Need | None


class StaffTaskService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def without_account(self, organization_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `organization_ids` with no active user account (nobody would read their mail)."""
        if not organization_ids:
            return set()
        has_user = exists().where(User.organization_id == Organization.id, User.is_active.is_(True))
        rows = await self.session.scalars(
            select(Organization.id).where(Organization.id.in_(organization_ids), ~has_user)
        )
        return set(rows)

    async def ask_to_reach(self, actor: Principal, firm_id: uuid.UUID, need: Need | None, note: str) -> StaffTask:
        """Ask staff to reach `firm_id` (about `need`); asking again while the task is open returns it."""
        task = await self.session.scalar(
            select(StaffTask).where(
                StaffTask.kind == REACH_FIRM,
                StaffTask.organization_id == firm_id,
                StaffTask.need_id == (need.id if need else None),
                StaffTask.done_at.is_(None),
            )
        )
        if task is None:
            task = StaffTask(
                kind=REACH_FIRM,
                organization_id=firm_id,
                need_id=need.id if need else None,
                requested_by_org=actor.organization_id,
                requested_by=actor.user_id,
                note=note.strip()[:2000],
            )
            self.session.add(task)
            await self.session.flush()
        return task

    async def asked_for(self, need: Need) -> set[uuid.UUID]:
        """The firms staff were asked to reach about `need` (task still open)."""
        rows = await self.session.scalars(
            select(StaffTask.organization_id).where(StaffTask.need_id == need.id, StaffTask.done_at.is_(None))
        )
        return set(rows)

    async def open_tasks(self, actor: Principal, limit: int = 50) -> list[OpenTask]:
        """Staff: the open tasks, oldest first, each with its organization and need."""
        if not actor.is_staff:
            raise Forbidden("Only staff see staff tasks.")
        rows = await self.session.execute(
            select(StaffTask, Organization, Need)
            .join(Organization, Organization.id == StaffTask.organization_id)
            .outerjoin(Need, Need.id == StaffTask.need_id)
            .where(StaffTask.done_at.is_(None))
            .order_by(StaffTask.created_at, StaffTask.id)
            .limit(limit)
        )
        return [OpenTask(t, o, n) for t, o, n in rows.tuples()]

    async def finish(self, actor: Principal, task_id: uuid.UUID) -> StaffTask:
        """Staff mark a task done."""
        if not actor.is_staff:
            raise Forbidden("Only staff close staff tasks.")
        task = await self.session.get(StaffTask, task_id)
        if task is None:
            raise NotFound("No such task.")
        if task.done_at is None:
            task.done_at = now()
            await self.session.flush()
        return task
