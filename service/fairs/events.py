"""What the fairs domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from service.fairs.models import Fair, Meeting, MeetingRequest
from service.identity.principal import Principal
from service.lib.events import DomainEvent


@dataclass(frozen=True)
class MeetingMoved(DomainEvent):
    meeting: Meeting  # already at its new time, its sequence grown
    actor: Principal
    previous_starts_at: datetime


@dataclass(frozen=True)
class MeetingCancelled(DomainEvent):
    meeting: Meeting
    actor: Principal


@dataclass(frozen=True)
class MeetingRated(DomainEvent):
    """One side rated the meeting (its `agency_rating` or `firm_rating` is set)."""

    meeting: Meeting
    actor: Principal


@dataclass(frozen=True)
class MeetingRequestCreated(DomainEvent):
    request: MeetingRequest


@dataclass(frozen=True)
class MeetingRequestAccepted(DomainEvent):
    request: MeetingRequest


@dataclass(frozen=True)
class MeetingRequestDeclined(DomainEvent):
    request: MeetingRequest


@dataclass(frozen=True)
class FairScheduled(DomainEvent):
    """The auto-scheduler placed a fair's requests as provisional meetings."""

    fair: Fair
    scheduled: int  # meetings placed
    unscheduled: tuple[uuid.UUID, ...]  # the requests it could not place


@dataclass(frozen=True)
class FairFinalized(DomainEvent):
    """Staff made the agenda final."""

    fair: Fair
    meeting_ids: tuple[uuid.UUID, ...]  # the meetings that were provisional until now
