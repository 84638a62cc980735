"""What the needs domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.lib.events import DomainEvent
from service.needs.models import Need, NeedResponse, NeedResponseReply


@dataclass(frozen=True)
class NeedResponded(DomainEvent):
    """A firm expressed interest in `need` (관심 표명); its agency is told."""

    response: NeedResponse
    need: Need


@dataclass(frozen=True)
class NeedResponseReplied(DomainEvent):
    """The need's agency replied to a firm's response; the firm is told of each `reply`."""

    response: NeedResponse
    need: Need
    reply: NeedResponseReply
