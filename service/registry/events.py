"""What the registry domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.lib.events import DomainEvent
from service.registry.models import Organization


@dataclass(frozen=True)
class OrganizationStatusChanged(DomainEvent):
    """Base of the status events; subscribe to the concrete classes. `organization.status_reason`
    holds staff's reason for a rejection or suspension."""

    organization: Organization


@dataclass(frozen=True)
class OrganizationVerified(OrganizationStatusChanged):
    pass


@dataclass(frozen=True)
class OrganizationRejected(OrganizationStatusChanged):
    pass


@dataclass(frozen=True)
class OrganizationSuspended(OrganizationStatusChanged):
    pass


@dataclass(frozen=True)
class OrganizationReinstated(OrganizationStatusChanged):
    pass


# The event of each staff action on an organization's status (registry.service.TRANSITIONS).
STATUS_EVENTS: dict[str, type[OrganizationStatusChanged]] = {
    "verify": OrganizationVerified,
    "reject": OrganizationRejected,
    "suspend": OrganizationSuspended,
    "reinstate": OrganizationReinstated,
}
