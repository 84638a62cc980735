"""The application, assembled by one plugin: database, templates, CSRF, auth, errors, routes, jobs."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import (
    SQLAlchemyAsyncConfig,
    SQLAlchemyInitPlugin,
    SQLAlchemySerializationPlugin,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service.accounts.auth import AuthMiddleware, RouterMissCaller
from service.accounts.callers import CallerCache
from service.accounts.sessions import settle_touches
from service.config import Settings, get_settings
from service.db.engine import make_engine, make_sessionmaker, resolve_database_url
from service.domains import domain_modules
from service.identity.deps import CALLER_DEPENDENCIES
from service.lib import i18n
from service.lib.csrf import SessionCsrfMiddleware
from service.lib.deps import DEPENDENCIES
from service.lib.idempotency import IdempotencyMiddleware, form_token
from service.lib.observability import ACCESS_LINES, EdgeMiddleware, MetricsController
from service.lib.openapi import document_idempotency, document_problem_responses
from service.lib.request_limits import JsonBodyGuardMiddleware
from service.lib.web import (
    CommitBeforeResponseMiddleware,
    exception_handler,
    response_headers,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


log = logging.getLogger("service")


def domain_routes() -> list[Any]:
    """Each domain exposes ROUTES in api.py (JSON) and pages.py (HTML) when it has any."""
    routes: list[Any] = []
    for module_name in ("api", "pages"):
        for module in domain_modules(module_name):
            routes.extend(getattr(module, "ROUTES", []))
    return routes


def jinja_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext,
        i18n.ngettext,
        newstyle=True,
    )
    env.globals.update(
        krw=i18n.format_krw,
        krw_range=i18n.format_krw_range,
        number=i18n.format_number,
        day=i18n.format_day,
        moment=i18n.format_moment,
        current_locale=i18n.current_locale,
        form_token=form_token,
    )
    return env


def freeze_heap() -> None:
    """After start-up: collect once, then keep every object alive now out of later collections
    (`settings.app.freeze_gc`)."""
    gc.collect()
    gc.freeze()


class SessionPlugin(SQLAlchemyInitPlugin):
    """advanced-alchemy's plugin (the `db_session` dependency, its lifespan) without its before_send
    hook: `CommitBeforeResponseMiddleware` commits, rolls back and closes the request's session,
    where a request has one; the hook would be called for every message of every response.

    `inside` is a lifespan entered after the plugin's own, so that it ends before the plugin's closes
    the connection pool: what it waits for at shutdown still has its connections closed with the pool.
    """

    def __init__(
        self, config: SQLAlchemyAsyncConfig, inside: Callable[[Litestar], AbstractAsyncContextManager[None]]
    ) -> None:
        super().__init__(config=config)
        self.inside = inside

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config = super().on_app_init(app_config)
        for config in self.config:
            app_config.before_send.remove(config.before_send_handler)  # type: ignore[arg-type]
        app_config.lifespan.append(self.inside)
        return app_config


class AppPlugin(InitPluginProtocol):
    """Wires the whole application; `create_app()` only instantiates Litestar with it."""

    def __init__(self, settings: Settings | None = None, database_url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.database_url = database_url or resolve_database_url(self.settings)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = self.settings
        engine = make_engine(self.database_url, settings.db.pool_size, settings.db.slow_query_ms)
        sessionmaker = make_sessionmaker(engine, settings)
        callers = CallerCache(engine, self.database_url)
        app_config.state.update(
            {
                "settings": settings,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "database_url": self.database_url,
                "callers": callers,
            }
        )
        database_config = SQLAlchemyAsyncConfig(
            engine_instance=engine,
            session_maker=sessionmaker,
            set_default_exception_handler=False,
        )
        app_config.state["database_config"] = database_config
        app_config.plugins.extend(
            [SessionPlugin(database_config, inside=self._lifespan), SQLAlchemySerializationPlugin()]
        )
        app_config.template_config = TemplateConfig(engine=JinjaTemplateEngine.from_environment(jinja_environment()))
        app_config.openapi_config = OpenAPIConfig(
            title="procure-match API", version="1.0.0", path="/schema", render_plugins=[ScalarRenderPlugin()]
        )
        app_config.middleware = [
            # Plain ASGI layers, each passing straight through what it has nothing to do with (a
            # Litestar ASGIMiddleware asks its should-bypass questions on every request).
            # EdgeMiddleware gives every response it sees its headers; the exception handler gives them
            # to the rest (the router's own 404/405, errors raised by a middleware). No before_send hook:
            # Litestar would call it for every message of every response.
            DefineMiddleware(EdgeMiddleware, on_response_start=response_headers(settings.app.secure_cookies)),
            JsonBodyGuardMiddleware,
            DefineMiddleware(AuthMiddleware, callers, settings, sessionmaker),
            # after AuthMiddleware: a signed-in caller's token is bound to their session
            DefineMiddleware(SessionCsrfMiddleware, settings.auth.secret_key, settings.app.secure_cookies),
            # The request's session is the one advanced-alchemy gives the handler, asked of its config.
            DefineMiddleware(CommitBeforeResponseMiddleware, database_config),
            # Inside the commit: a creating request's key is stored in its session, committed with it.
            DefineMiddleware(IdempotencyMiddleware, database_config),
            *app_config.middleware,
        ]
        app_config.dependencies = {**DEPENDENCIES, **CALLER_DEPENDENCIES, **app_config.dependencies}
        app_config.exception_handlers = {Exception: exception_handler, **app_config.exception_handlers}
        app_config.after_exception = [*app_config.after_exception, RouterMissCaller(callers)]
        app_config.route_handlers.extend(domain_routes())
        app_config.route_handlers.append(MetricsController)
        app_config.route_handlers.append(
            create_static_files_router(path="/static", directories=[STATIC_DIR], name="static")
        )
        app_config.on_startup.extend([document_problem_responses, document_idempotency])
        if settings.app.freeze_gc:
            app_config.on_startup.append(freeze_heap)
        # Logging is configured once by the process (service.lib.observability.log_config, applied by
        # the CLI and by uvicorn in every worker); Litestar's default would replace it at startup.
        app_config.logging_config = None
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        scheduler = None
        if self.settings.scheduler.enabled:
            from service.scheduler import start_scheduler

            scheduler = start_scheduler(app.state.sessionmaker, self.settings)
        await app.state.callers.start()
        try:
            yield
        finally:
            await app.state.callers.close()
            await settle_touches(timeout=5)  # their connections are closed with the pool, not left behind
            ACCESS_LINES.flush()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await app.state.engine.dispose()
