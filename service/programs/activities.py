"""Cooperation activities (협력활동) staff log with partners: the education offices and others."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.targets import check_year
from service.identity.principal import Principal
from service.lib.errors import FieldErrors
from service.programs.models import ActivityKind, CooperationActivity
from service.programs.schemas import ActivityIn


class ActivityService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def log(self, staff: Principal, data: ActivityIn) -> CooperationActivity:
        errors = FieldErrors()
        if not data.partner.strip():
            errors.add("partner", "required")
        if data.kind not in {k.value for k in ActivityKind}:
            errors.add("kind", "must be one of " + ", ".join(k.value for k in ActivityKind))
        if not 2000 <= data.date.year <= 2100:
            errors.add("date", "must be a year between 2000 and 2100")
        links = [link.strip() for link in data.links if link.strip()]
        for i, link in enumerate(links):
            if not link.startswith("https://"):
                errors.add(f"links[{i}]", "must be an https:// link")
        errors.raise_if_any()
        row = CooperationActivity(
            partner=data.partner.strip(),
            activity_date=data.date,
            kind=ActivityKind(data.kind),
            description=data.description.strip(),
            links=links,
            created_by=staff.user_id,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def list(self, year: int | None, offset: int, limit: int) -> tuple[list[CooperationActivity], int]:
        """Newest first; `year` narrows to one calendar year."""
        check_year(year)
        query = select(CooperationActivity)
        if year is not None:
            query = query.where(func.extract("year", CooperationActivity.activity_date) == year)
        total = int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await self.session.scalars(
            query.order_by(CooperationActivity.activity_date.desc(), CooperationActivity.created_at.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total
