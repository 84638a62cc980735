"""held_per_month: the programs report's count of consultations held, by Seoul month."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from service.consultations.models import Consultation, ConsultationStatus, ConsultationTopic
from service.consultations.results import held_per_month
from tests.factories import create_staff, verified_firm


async def test_held_per_month_counts_held_consultations_by_seoul_month(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    starts = [
        (datetime(2020, 1, 31, 15, 30, tzinfo=UTC), ConsultationStatus.HELD),  # 2020-02-01 00:30 in Seoul
        (datetime(2020, 3, 3, 1, 0, tzinfo=UTC), ConsultationStatus.HELD),
        (datetime(2020, 3, 4, 1, 0, tzinfo=UTC), ConsultationStatus.HELD),
        (datetime(2020, 3, 5, 1, 0, tzinfo=UTC), ConsultationStatus.CONFIRMED),  # not held: not counted
        (datetime(2020, 3, 6, 1, 0, tzinfo=UTC), ConsultationStatus.NO_SHOW),
        (datetime(2019, 12, 31, 14, 30, tzinfo=UTC), ConsultationStatus.HELD),  # 2019-12-31 23:30 in Seoul
        (datetime(2020, 12, 31, 15, 0, tzinfo=UTC), ConsultationStatus.HELD),  # 2021-01-01 00:00 in Seoul
    ]
    async with sessionmaker.begin() as session:
        for start, status in starts:
            session.add(
                Consultation(
                    organization_id=uuid.UUID(firm.organization_id),
                    topic=ConsultationTopic.PROCEDURE,
                    message="",
                    status=status,
                    staff_id=uuid.UUID(staff.user_id),
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                )
            )
    async with sessionmaker() as session:
        counts = await held_per_month(session, 2020)
        assert counts == {1: 0, 2: 1, 3: 2, **dict.fromkeys(range(4, 13), 0)}
        assert (await held_per_month(session, 2021))[1] == 1
        assert sum((await held_per_month(session, 2019)).values()) == 1
