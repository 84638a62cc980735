"""Who may call a handler, declared rather than checked by hand on a handler's first line.

- Providers: a handler that takes `viewer` is for signed-in callers (401 otherwise); `staff` for
  support-center staff (403 otherwise); `verified_org` for staff and members of a verified organization
  (403 `awaiting_verification` otherwise). Each resolves to the caller's `Principal`.
- `opt=WRITE_CHECKS_CALLER` on a handler whose one write verifies, in its own statement, that the
  caller is still who the request's caller cache says (the booking: `caller_holds` in the database):
  its caller is taken from the cache without the cache's barrier round (see `CallerCache.principal`).
- Guards: `guards=[staff_only]` on a controller (or `signed_in`) refuses the call before any dependency is
  built or any body is read.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from service.identity.principal import Principal, require_principal, require_staff

WRITE_CHECKS_CALLER = {"write_checks_caller": True}


def write_checks_caller(scope: Any) -> bool:
    """Whether the handler routed to declared `opt=WRITE_CHECKS_CALLER`."""
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get("write_checks_caller"))


def provide_viewer(request: Request[Any, Any, Any]) -> Principal:
    return require_principal(request.scope.get("user"))


def provide_staff(viewer: NamedDependency[Principal]) -> Principal:
    return require_staff(viewer)


def provide_verified_org(viewer: NamedDependency[Principal]) -> Principal:
    viewer.require_verified()
    return viewer


def answers_options(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Litestar's automatic OPTIONS handler inherits a controller's guards; it only lists the path's
    methods (the `Allow` header), which anyone may learn, so guards let it through."""
    return connection.scope.get("method") == "OPTIONS"


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not answers_options(connection):
        require_principal(connection.scope.get("user"))


def staff_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not answers_options(connection):
        require_staff(connection.scope.get("user"))


CALLER_DEPENDENCIES = {
    "viewer": Provide(provide_viewer, sync_to_thread=False),
    "staff": Provide(provide_staff, sync_to_thread=False),
    "verified_org": Provide(provide_verified_org, sync_to_thread=False),
}
