"""Resolve the caller from a bearer token or the session cookie, and pick the interface language."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.callers import CallerCache
from service.accounts.sessions import touch
from service.config import SUPPORTED_LOCALES, Settings
from service.identity.deps import write_checks_caller
from service.identity.principal import Principal
from service.lib.i18n import set_locale
from service.lib.web import bare_error_response, to_domain_error

SESSION_COOKIE = "pm_session"
LANG_COOKIE = "lang"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def session_cookie(raw_token: str | None, settings: Settings, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=raw_token,
        httponly=True,
        samesite="lax",
        secure=settings.app.secure_cookies,
        path="/",
        max_age=max_age if raw_token else 0,
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    raw = _header(scope, b"cookie")
    out: dict[str, str] = {}
    if raw:
        for part in raw.split(";"):
            key, _, value = part.strip().partition("=")
            if key:
                out[key] = value
    return out


class AuthMiddleware:
    """Sets scope["user"] to a Principal or None (a plain ASGI layer).

    API calls that change state authenticate by bearer token only: the session cookie
    alone is not accepted there, so a foreign page cannot ride on a browser's cookie
    (the HTML forms carry a CSRF token instead).
    """

    def __init__(
        self, callers: CallerCache, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], app: ASGIApp
    ) -> None:
        self.app = app
        self.callers = callers
        self.settings = settings
        self.sessionmaker = sessionmaker  # only for noting a session's "last seen", every few minutes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cookies = _cookies(scope)
        raw: str | None = None
        authorization = _header(scope, b"authorization") or ""
        if authorization.lower().startswith("bearer "):
            raw = authorization[7:].strip()
        elif SESSION_COOKIE in cookies:
            api_write = scope["path"].startswith("/api/") and scope.get("method", "GET") in UNSAFE
            if not api_write:
                raw = cookies[SESSION_COOKIE]
        principal: Principal | None = None
        if raw:
            try:
                principal = await self.callers.principal(raw, settle=not write_checks_caller(scope))
                if principal is not None:
                    touch(self.sessionmaker, principal.token_id)  # "last seen" of the sessions list
            except Exception as exc:  # the database is down: answer 503, never a stack trace
                response = bare_error_response(scope, to_domain_error(exc))
                await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
                return
        scope["user"] = principal
        scope["auth"] = "bearer" if authorization else ("cookie" if principal else None)
        lang = cookies.get(LANG_COOKIE)
        locale = lang if lang in SUPPORTED_LOCALES else (principal.locale if principal else None)
        set_locale(locale or self.settings.app.default_locale)
        state: Any = scope.setdefault("state", {})
        state["locale"] = locale or self.settings.app.default_locale
        await self.app(scope, receive, send)


class RouterMissCaller:
    """An `after_exception` hook: a path no route matches is answered by the router before the
    middleware runs, so its 404/405 page would show a signed-out header to a signed-in user. For page
    requests (GET/HEAD with the session cookie) this looks the caller up, as AuthMiddleware would, and
    puts them in the scope the error page reads. Bearer calls get problem+json, which shows no caller."""

    def __init__(self, callers: CallerCache) -> None:
        self.callers = callers

    async def __call__(self, exc: Exception, scope: Scope) -> None:
        if "user" in scope or scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
            return
        raw = _cookies(scope).get(SESSION_COOKIE)
        if not raw or scope["path"].startswith("/api/"):
            return
        try:
            principal = await self.callers.principal(raw)
        except Exception:  # the page is an error page already; it shows the signed-out header instead
            return
        scope["user"] = principal
