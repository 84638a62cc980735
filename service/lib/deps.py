"""Dependencies every controller may ask for by name, and the factory for a domain's service providers.

A controller declares what it needs instead of building it:

    class NeedPages(Controller):
        dependencies = {"needs": provide_service(NeedService)}

        @get("/")
        async def list_needs(self, viewer: NamedDependency[Principal], needs: NamedDependency[NeedService]): ...

The caller's providers (`viewer`, `staff`, `verified_org`) and the guards live in `service.identity.deps`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings

T = TypeVar("T")


def provide_settings(state: State) -> Settings:
    settings: Settings = state["settings"]
    return settings


def provide_principal(request: Request[Any, Any, Any]) -> Any:
    """The caller or None, for the few pages anyone may see (sign-in, registration, the landing page)."""
    return request.scope.get("user")


def provide_service(factory: Callable[[AsyncSession], T]) -> Provide:
    """A provider building `factory(db_session)` once per request."""

    def provide(db_session: NamedDependency[AsyncSession]) -> Any:
        return factory(db_session)

    return Provide(provide, sync_to_thread=False)


def provide_configured_service(factory: Callable[[AsyncSession, Settings], T]) -> Provide:
    """A provider building `factory(db_session, settings)` once per request (services that need settings)."""

    def provide(db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]) -> Any:
        return factory(db_session, settings)

    return Provide(provide, sync_to_thread=False)


def provide_service_after_caller(factory: Callable[[AsyncSession], T]) -> Provide:
    """A provider building `factory(the request's session)` once the caller is known.

    Litestar resolves the dependencies of one level together in an anyio task group, which cost a
    booking a tenth of its time: `viewer` and `db_session` are both first-level. This provider
    asks for `viewer` and opens the request's session itself (the one `db_session` would give,
    closed and committed the same way), so a handler taking `viewer` and this service resolves
    them one after the other. For the hot paths; it refuses callers who are not signed in (401).
    """

    def provide(viewer: NamedDependency[Any], state: State, scope: Scope) -> Any:
        config: SQLAlchemyAsyncConfig = state["database_config"]
        return factory(config.provide_session(state, scope))

    return Provide(provide, sync_to_thread=False)


DEPENDENCIES = {
    "settings": Provide(provide_settings, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}
