"""Domain errors. One exception handler turns them into RFC 9457 problem+json or an HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    status = 422
    code = "validation"
    title = "Invalid input"

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[FieldError(field, message)])


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Not signed in"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class AwaitingVerification(Forbidden):
    code = "awaiting-verification"
    title = "Organization awaits verification"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class TooManyAttempts(DomainError):
    status = 429
    code = "too-many-attempts"
    title = "Too many attempts"


class ServiceUnavailable(DomainError):
    status = 503
    code = "unavailable"
    title = "Service unavailable"


class FieldErrors:
    """Collects field errors so a request reports every bad field at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def has(self, field: str) -> bool:
        return any(e.field == field for e in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.items)
            raise ValidationFailed(detail, errors=list(self.items))
