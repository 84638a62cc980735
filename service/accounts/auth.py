"""Resolve the caller from a bearer token or the session cookie, and pick the interface language."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import Cookie
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from service.accounts.callers import CallerCache
from service.config import SUPPORTED_LOCALES, Settings
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


class AuthMiddleware(ASGIMiddleware):
    """Sets scope["user"] to a Principal or None.

    API calls that change state authenticate by bearer token only: the session cookie
    alone is not accepted there, so a foreign page cannot ride on a browser's cookie
    (the HTML forms carry a CSRF token instead).
    """

    def __init__(self, callers: CallerCache, settings: Settings) -> None:
        self.callers = callers
        self.settings = settings

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
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
                principal = await self.callers.principal(raw)
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
        await next_app(scope, receive, send)
