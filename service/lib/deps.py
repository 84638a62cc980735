"""Dependencies every controller may ask for by name."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from service.config import Settings


def provide_settings(state: State) -> Settings:
    settings: Settings = state["settings"]
    return settings


def provide_principal(request: Request[Any, Any, Any]) -> Any:
    return request.scope.get("user")


DEPENDENCIES = {
    "settings": Provide(provide_settings, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}
