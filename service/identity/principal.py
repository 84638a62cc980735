"""Who is calling: the signed-in user as seen by guards, services and templates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.lib.errors import AwaitingVerification, Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    organization_id: uuid.UUID | None
    organization_kind: str | None
    organization_status: str | None
    organization_name: str | None
    locale: str
    token_id: uuid.UUID
    # Confirmed current when the request began (the caller cache's barrier round, or read from the
    # database). An unsettled caller, taken from the cache for a handler whose write checks its caller
    # itself (`identity.deps.WRITE_CHECKS_CALLER`), must be checked by that write.
    settled: bool = True

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def is_agency(self) -> bool:
        return self.role == "agency"

    @property
    def is_firm(self) -> bool:
        return self.role == "firm"

    @property
    def is_verified(self) -> bool:
        return self.is_staff or self.organization_status == "verified"

    def owns(self, organization_id: uuid.UUID | None) -> bool:
        return organization_id is not None and self.organization_id == organization_id

    def require_verified(self) -> None:
        if not self.is_verified:
            raise awaiting_verification()


def awaiting_verification() -> AwaitingVerification:
    """The refusal of a caller whose organization is not verified (awaiting, or suspended since)."""
    return AwaitingVerification(
        "Your organization awaits verification by the support center; "
        "until then you can sign in and edit your profile only."
    )


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in first.")
    return principal


def require_staff(principal: Principal | None) -> Principal:
    p = require_principal(principal)
    if not p.is_staff:
        raise Forbidden("Only support-center staff may do this.")
    return p
