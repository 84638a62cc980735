"""What the consultations domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.consultations.models import Consultation
from service.lib.events import DomainEvent


@dataclass(frozen=True)
class ConsultationRequested(DomainEvent):
    """A firm or agency asked for a consultation; staff are told."""

    consultation: Consultation


@dataclass(frozen=True)
class ConsultationProposed(DomainEvent):
    """Staff proposed other times; the requester is asked to pick one."""

    consultation: Consultation


@dataclass(frozen=True)
class ConsultationConfirmed(DomainEvent):
    """A time is fixed (staff confirmed, or the requester accepted a proposal): invites and reminders."""

    consultation: Consultation


@dataclass(frozen=True)
class ConsultationCancelled(DomainEvent):
    """A consultation was cancelled; a confirmed one's invite is withdrawn and its reminders stop."""

    consultation: Consultation
    was_confirmed: bool
