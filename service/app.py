"""ASGI entry point: `uvicorn --factory service.app:create_app`."""

from __future__ import annotations

from litestar import Litestar

from service.config import Settings
from service.plugin import AppPlugin


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Litestar:
    return Litestar(plugins=[AppPlugin(settings, database_url)])
