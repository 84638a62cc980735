"""The participant rules the fairs pages and API share: who sees a table's room link, which ids a join names."""

from __future__ import annotations

import uuid

import pytest

from service.fairs.models import FairParticipant
from service.fairs.schemas import ParticipantIn
from service.fairs.service import FairService
from service.identity.principal import Principal
from service.lib.errors import ValidationFailed
from tests.factories_fairs import principal_for

AGENCY = uuid.uuid4()
OTHER = uuid.uuid4()


def caller(role: str, organization_id: uuid.UUID | None) -> Principal:
    return principal_for(uuid.uuid4(), role, organization_id)


def table() -> FairParticipant:
    return FairParticipant(fair_id=uuid.uuid4(), organization_id=AGENCY, kind="agency", room_url="https://r/1")


@pytest.mark.parametrize(
    ("viewer", "seen"),
    [
        (caller("staff", None), "https://r/1"),
        (caller("agency", AGENCY), "https://r/1"),
        (caller("agency", OTHER), None),
        (caller("firm", OTHER), None),
    ],
    ids=["staff", "the agency itself", "another agency", "a firm"],
)
def test_room_link_is_seen_by_staff_and_the_participant_only(viewer: Principal, seen: str | None) -> None:
    assert table().room_url_seen_by(viewer) == seen


def test_ids_take_the_list_then_the_single_id() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    assert ParticipantIn(organization_ids=[first], organization_id=second).ids() == [first, second]
    assert ParticipantIn(organization_id=second).ids() == [second]


def test_ids_require_at_least_one() -> None:
    with pytest.raises(ValidationFailed) as raised:
        ParticipantIn(organization_ids=[]).ids()
    assert [e.field for e in raised.value.errors] == ["organization_id"]


class _Participants(FairService):
    """A FairService whose participant lookup answers from a set instead of the database."""

    def __init__(self, members: set[uuid.UUID]) -> None:
        self.members = members

    async def participant(self, fair_id: uuid.UUID, organization_id: uuid.UUID) -> FairParticipant | None:
        if organization_id not in self.members:
            return None
        return FairParticipant(fair_id=fair_id, organization_id=organization_id, kind="agency")


@pytest.mark.parametrize(
    ("viewer", "takes_part"),
    [
        (caller("staff", None), True),
        (caller("agency", AGENCY), True),
        (caller("firm", OTHER), False),
        (caller("firm", None), False),
    ],
    ids=["staff", "a participant", "an organization not in the fair", "a user without organization"],
)
async def test_staff_and_participants_take_part(viewer: Principal, takes_part: bool) -> None:
    assert await _Participants({AGENCY}).takes_part(viewer, uuid.uuid4()) is takes_part
