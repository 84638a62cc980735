"""What the matching domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.lib.events import DomainEvent
from service.matching.models import Shortlist
from service.needs.models import Need


@dataclass(frozen=True)
class ShortlistInvited(DomainEvent):
    """An agency invited a firm on its shortlist for `need` (`invitation.message` is its note)."""

    invitation: Shortlist
    need: Need
