"""What the programs domain announces (published with `service.lib.events.publish`); service.notify mails."""

from __future__ import annotations

from dataclasses import dataclass

from service.lib.events import DomainEvent
from service.programs.models import ProgramSession, SessionRegistration


@dataclass(frozen=True)
class SessionRegistered(DomainEvent):
    """Someone was registered for a session or put on its waiting list (`registration.status` says which)."""

    session: ProgramSession
    registration: SessionRegistration


@dataclass(frozen=True)
class SessionSeatFreed(DomainEvent):
    """A registration was cancelled; `promoted` is who moved up from the waiting list, if anyone."""

    session: ProgramSession
    cancelled: SessionRegistration
    promoted: SessionRegistration | None


@dataclass(frozen=True)
class SessionMaterialsShared(DomainEvent):
    session: ProgramSession
