"""What the contracts domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.contracts.models import Contract
from service.identity.principal import Principal
from service.lib.events import DomainEvent


@dataclass(frozen=True)
class ContractEvent(DomainEvent):
    """Base of the contract events; subscribe to the concrete classes."""

    contract: Contract
    actor: Principal


@dataclass(frozen=True)
class ContractReported(ContractEvent):
    """A party or staff recorded a contract (`contract.reported_side` says who)."""


@dataclass(frozen=True)
class ContractConfirmed(ContractEvent):
    pass


@dataclass(frozen=True)
class ContractChanged(ContractEvent):
    """A party or staff corrected a contract (a confirmed one returns to `reported`)."""
