"""HTTP edges shared by every domain: problem+json errors, HTML error pages, security headers."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar import async_autocommit_handler_maker as autocommit_handler_maker
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.lib.errors import DomainError, FieldError, ServiceUnavailable, Unauthorized, ValidationFailed
from service.lib.i18n import current_locale, set_locale
from service.lib.observability import REQUEST_ID_HEADER_RAW, response_request_id

log = logging.getLogger("service.web")
PROBLEM_JSON = "application/problem+json"


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema")) or path in ("/health", "/ready"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem_response(error: DomainError) -> Response[Any]:
    return Response(
        content=error.problem(),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _html_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    if isinstance(error, Unauthorized):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path="/login", query_params={"next": target}, status_code=303)
    if "auth" not in request.scope:  # answered by the router (no such path): the middleware did not run
        caller = request.scope.get("user")  # found by accounts.auth.RouterMissCaller, if signed in
        set_locale(request.cookies.get("lang") or (caller.locale if caller else None) or current_locale())
    return Template(
        template_name="error.html",
        # the same frame as every page: the caller's menu and the page's language (<html lang>)
        context={
            "error": error,
            "principal": request.scope.get("user"),
            "locale": current_locale(),
            "back": came_from(request),
        },
        status_code=error.status,
        headers=error.headers,
    )


def came_from(request: Request[Any, Any, Any]) -> str | None:
    """The same-site page the user came from (its path and query), unless it is this very page; after a
    language switch on an error page, the `back` the switch link carried (its Referer is the page itself)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = request.headers.get("referer")
    target: str | None = None
    if referer:
        parsed = urlsplit(referer)
        if parsed.scheme in ("http", "https") and parsed.netloc in (request.url.netloc, request.headers.get("host")):
            target = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    if target is None or _without_back(target) == _without_back(here):
        target = request.query_params.get("back")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return None if _without_back(target) == _without_back(here) else target


def _without_back(path: str) -> str:
    """A page's path and query without the `back` the language switch added."""
    base, _, query = path.partition("?")
    kept = [part for part in query.split("&") if part and not part.startswith("back=")]
    return base + (f"?{'&'.join(kept)}" if kept else "")


def to_domain_error(exc: Exception) -> DomainError:
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, ValidationException):
        errors = []
        for item in exc.extra if isinstance(exc.extra, list) else []:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                errors.append(FieldError(key, str(item.get("message", "invalid"))))
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
        return ValidationFailed(detail, errors=errors)
    if isinstance(exc, HTTPException):
        klass = type(
            "HTTPProblem",
            (DomainError,),
            {"status": exc.status_code, "code": f"http-{exc.status_code}", "title": _title(exc.status_code)},
        )
        error: DomainError = klass(str(exc.detail))
        error.headers = dict(exc.headers or {})
        return error
    if isinstance(exc, DBAPIError) and str(getattr(exc.orig, "sqlstate", "") or "").startswith("22"):
        # SQLSTATE class 22 "data exception": a NUL character in text, a number beyond bigint, a
        # string longer than its column... The input is at fault, never the server.
        log.info("input rejected by PostgreSQL: %s", getattr(exc.orig, "sqlstate", ""))
        return ValidationFailed(
            "A value is not acceptable: text with a NUL character, a number out of range or a text too long."
        )
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, OSError, ConnectionError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        log.warning("database unavailable: %s", exc)
        return ServiceUnavailable(
            "The database is unavailable right now. Try again in a moment.", headers={"Retry-After": "5"}
        )
    log.exception("unhandled error", exc_info=exc)
    internal = type("InternalProblem", (DomainError,), {"status": 500, "code": "internal", "title": "Internal error"})
    result: DomainError = internal("Something went wrong on our side. The error was logged.")
    return result


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error = to_domain_error(exc)
    if isinstance(exc, NotAuthorizedException) and "csrf" in str(exc.detail).lower():
        error.detail = "The form expired or was sent from elsewhere (CSRF check failed). Reload the page and try again."
    if wants_json(request):
        return problem_response(error)
    return _html_error(request, error)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


def response_hook(https: bool, database_config: SQLAlchemyAsyncConfig) -> Callable[[Message, Scope], Awaitable[None]]:
    """The application's one `before_send` hook (it is advanced-alchemy's `before_send_handler`).

    Litestar calls every hook for every message of every response, the router's own 404/405 included
    (no middleware sees those), so one hook does all of it:
    - the request's database session, only where there is one: advanced-alchemy's autocommit handler
      (commit on 2xx/3xx, already done by `CommitBeforeResponseMiddleware`; roll back otherwise; close
      it at the end of the response);
    - on a response start, in one pass over its headers (`response_headers`): the security headers,
      the request id and, on OPTIONS, the complete `Allow`.
    """
    key = database_config.session_scope_key
    finish_session = autocommit_handler_maker(commit_on_redirect=True, session_scope_key=key)
    add_headers = response_headers(https)

    async def hook(message: Message, scope: Scope) -> None:
        sessions: Any = scope.get("_aa_connection_state")
        if sessions and sessions.get(key) is not None:
            await finish_session(message, scope)
        if message["type"] == "http.response.start":
            add_headers(message, scope)

    return hook


def response_headers(https: bool) -> Callable[[Message, Scope], None]:
    """What every response start gets: CSP without inline script, no framing, nosniff, referrer
    policy, HSTS behind https (set, replacing same-named headers); the request id (unless the
    response has one); and on OPTIONS the complete `Allow` (`allowed_methods`)."""

    common = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if https:
        common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    with_policy = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), *common]
    # the API docs page loads its own scripts: no policy of ours there
    for_docs = (common, frozenset(name for name, _ in common))
    for_others = (with_policy, frozenset(name for name, _ in with_policy))

    def add_headers(message: Message, scope: Scope) -> None:
        added, names = for_docs if scope["path"].startswith("/schema") else for_others
        allow = allowed_methods(scope) if scope.get("method") == "OPTIONS" else None
        if allow is not None:
            added, names = [*added, (b"allow", allow.encode())], names | {b"allow"}
        headers = []
        has_id = False
        for pair in message.get("headers", ()):  # type: ignore[attr-defined]
            name = bytes(pair[0]).lower()
            if name in names:
                continue
            has_id = has_id or name == REQUEST_ID_HEADER_RAW
            headers.append(pair)
        headers.extend(added)
        if not has_id:
            headers.append((REQUEST_ID_HEADER_RAW, response_request_id()))
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]

    return add_headers


def _allowed_methods(app: Any) -> dict[str, str]:
    """{path template without parameter types: "GET, OPTIONS, PATCH"} for every HTTP route."""
    cached: dict[str, str] | None = app.state.get("_allowed_methods")
    if cached is None:
        from litestar.routes import HTTPRoute

        cached = {}
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                key = re.sub(r"\{([^:}]+):[^}]+\}", r"{\1}", route.path)
                methods = {m for handler in route.route_handlers for m in handler.http_methods}
                cached[key] = ", ".join(sorted(methods | {"OPTIONS"}))
        app.state["_allowed_methods"] = cached
    return cached


def allowed_methods(scope: Scope) -> str | None:
    """Every method the requested path has, for `Allow`: Litestar's automatic OPTIONS lists only the
    first method of a path (litestar#4169)."""
    template = scope.get("path_template")
    app = scope.get("app")
    if template is None or app is None:
        return None
    return _allowed_methods(app).get(str(template)) or None


_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>잠시 후 다시 시도해 주세요 · procure-match</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main id="main"><h1>잠시 후 다시 시도해 주세요</h1>
<p>데이터베이스에 연결할 수 없습니다. 몇 초 뒤에 페이지를 새로 고쳐 주세요.</p>
<p lang="en">The service is briefly unavailable (database). Reload the page in a few seconds.</p>
</main></body></html>"""


def bare_error_response(scope: Scope, error: DomainError) -> Response[Any]:
    """For errors raised before routing (middleware): problem+json for the API and JSON clients,
    a small self-contained HTML page for browsers (templates may need what just failed)."""
    accept = _header_value(scope, b"accept")
    if scope["path"].startswith("/api/") or ("application/json" in accept and "text/html" not in accept):
        return problem_response(error)
    return Response(
        content=_UNAVAILABLE_PAGE if error.status == 503 else f"<!doctype html><title>{error.status}</title>",
        status_code=error.status,
        media_type=MediaType.HTML,
        headers=error.headers,
    )


def _header_value(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def request_session(scope: Scope, database_config: SQLAlchemyAsyncConfig) -> Any:
    """The request's session if something opened one, else None (never open one just to commit
    nothing: that cost /health a third of its time). advanced-alchemy keeps it in this scope entry."""
    state: dict[str, Any] = scope.get("_aa_connection_state") or {}  # type: ignore[assignment]
    return state.get(database_config.session_scope_key)


class CommitBeforeResponseMiddleware:
    """Commit the request's database session before a 2xx/3xx response starts, and tell the truth
    when that COMMIT fails.

    advanced-alchemy's autocommit hook commits in `before_send` and only logs a failed COMMIT
    (at debug level), so a booking whose COMMIT never reached the database was answered 201.
    Here the COMMIT happens first; if it fails, the success response is dropped and the error
    response goes out instead (503 problem+json when the database is unreachable). The hook
    still closes the session (its commit is then a no-op) and rolls back error responses.
    """

    def __init__(self, database_config: SQLAlchemyAsyncConfig, app: ASGIApp) -> None:
        self.app = app
        self.database_config = database_config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        replaced = False

        async def send_after_commit(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the rest of a success response that did not happen
            if message["type"] == "http.response.start" and 200 <= message["status"] < 400:
                session = request_session(scope, self.database_config)
                if session is not None and session.in_transaction():
                    try:
                        await session.commit()
                    except Exception as exc:  # the outcome is unknown to us: never claim success
                        replaced = True
                        error = to_domain_error(exc)
                        log.warning("commit failed, answering %d instead of %d", error.status, message["status"])
                        response = bare_error_response(scope, error)
                        await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
                        return
            await send(message)

        await self.app(scope, receive, send_after_commit)
