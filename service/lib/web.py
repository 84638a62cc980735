"""HTTP edges shared by every domain: problem+json errors, HTML error pages, security headers."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.lib.errors import DomainError, FieldError, ServiceUnavailable, Unauthorized, ValidationFailed
from service.lib.i18n import current_locale, set_locale
from service.lib.observability import REQUEST_ID_HEADER, REQUEST_ID_HEADER_RAW, response_request_id

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
    # asyncpg's own errors come from statements run on the driver directly (`fetch_row(..., alone=True)`).
    if _sqlstate(exc).startswith("22"):
        # SQLSTATE class 22 "data exception": a NUL character in text, a number beyond bigint, a
        # string longer than its column... The input is at fault, never the server.
        log.info("input rejected by PostgreSQL: %s", _sqlstate(exc))
        return ValidationFailed(
            "A value is not acceptable: text with a NUL character, a number out of range or a text too long."
        )
    unreachable = (OperationalError, InterfaceError, PoolTimeout, OSError, ConnectionError)
    if (
        isinstance(exc, (*unreachable, asyncpg.InterfaceError))
        or _sqlstate(exc)[:2] in ("08", "57")  # connection exception, operator intervention (shutdown)
        or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
    ):
        log.warning("database unavailable: %s", exc)
        return ServiceUnavailable(
            "The database is unavailable right now. Try again in a moment.", headers={"Retry-After": "5"}
        )
    log.exception("unhandled error", exc_info=exc)
    internal = type("InternalProblem", (DomainError,), {"status": 500, "code": "internal", "title": "Internal error"})
    result: DomainError = internal("Something went wrong on our side. The error was logged.")
    return result


def _sqlstate(exc: Exception) -> str:
    """The SQLSTATE of a database error, raised through SQLAlchemy or by asyncpg itself; "" for others."""
    if isinstance(exc, DBAPIError):
        return str(getattr(exc.orig, "sqlstate", "") or "")
    if isinstance(exc, asyncpg.PostgresError):
        return str(exc.sqlstate or "")
    return ""


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
    response = problem_response(error) if wants_json(request) else _html_error(request, error)
    return with_edge_headers(request, response)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


def _edge_headers(https: bool, docs: bool) -> tuple[list[tuple[bytes, bytes]], frozenset[bytes]]:
    """CSP without inline script, no framing, nosniff, referrer policy, HSTS behind https; the API
    docs page loads its own scripts: no policy of ours there. With their names, to replace."""
    added = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if https:
        added.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    if not docs:
        added.insert(0, (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    return added, frozenset(name for name, _ in added)


EDGE_HEADERS = {(https, docs): _edge_headers(https, docs) for https in (False, True) for docs in (False, True)}


def response_headers(https: bool) -> Callable[[Message, Scope], None]:
    """What every response start gets, in one pass over its headers: the security headers
    (`_edge_headers`, replacing same-named ones), the request id (unless the response has one) and
    on OPTIONS the complete `Allow` (`allowed_methods`). EdgeMiddleware calls it at every response
    start it sees; `exception_handler` gives the same headers to the answers it does not see."""
    for_docs, for_others = EDGE_HEADERS[(https, True)], EDGE_HEADERS[(https, False)]

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


def with_edge_headers(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    """The headers of `response_headers` on an error response. The router's own 404/405 and errors
    raised by a middleware are answered outside EdgeMiddleware, so they get them here; a handler's
    error passes EdgeMiddleware too, which sets the same values again."""
    scope = request.scope
    settings = request.app.state.get("settings")
    https = bool(settings and settings.app.secure_cookies)
    headers = response.headers
    for name, value in EDGE_HEADERS[(https, scope["path"].startswith("/schema"))][0]:
        _set_header(headers, name.decode(), value.decode())
    if not any(key.lower() == REQUEST_ID_HEADER.lower() for key in headers):
        state: Any = scope.get("state") or {}
        headers[REQUEST_ID_HEADER] = state.get("request_id") or response_request_id().decode()
    allow = allowed_methods(scope) if scope.get("method") == "OPTIONS" else None
    if allow is not None:
        _set_header(headers, "allow", allow)
    return response


def _set_header(headers: Any, name: str, value: str) -> None:
    for key in [key for key in headers if key.lower() == name]:
        del headers[key]
    headers[name] = value


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
    when that COMMIT fails; then close the session, as the response starts.

    advanced-alchemy's autocommit hook commits in `before_send` and only logs a failed COMMIT
    (at debug level), so a booking whose COMMIT never reached the database was answered 201.
    Here the COMMIT happens first; if it fails, the success response is dropped and the error
    response goes out instead (503 problem+json when the database is unreachable). Any other
    response rolls the session back. Either way the session is closed and forgotten before the
    response starts, as that hook did; the hook itself is not installed (`SessionPlugin`): a
    before_send hook costs every message of every response, this costs only requests with a
    session. A request that ends without a response start passing here (an error escaping the
    handler's layers) has its session rolled back and closed on the way out.
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
            if message["type"] == "http.response.start":
                session = request_session(scope, self.database_config)
                if session is not None:
                    error = await self._finish(scope, session, message["status"])
                    if error is not None:  # the outcome is unknown to us: never claim success
                        replaced = True
                        log.warning("commit failed, answering %d instead of %d", error.status, message["status"])
                        response = bare_error_response(scope, error)
                        await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
                        return
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        finally:
            session = request_session(scope, self.database_config)
            if session is not None:
                await self._close(scope, session, rollback=True)

    async def _finish(self, scope: Scope, session: Any, status: int) -> DomainError | None:
        """Commit a success (the error if the COMMIT fails), roll back anything else; close."""
        failure: DomainError | None = None
        success = 200 <= status < 400
        if success and session.in_transaction():
            try:
                await session.commit()
            except Exception as exc:
                failure = to_domain_error(exc)
        await self._close(scope, session, rollback=failure is not None or not success)
        return failure

    async def _close(self, scope: Scope, session: Any, rollback: bool) -> None:
        """What advanced-alchemy's hook did after its commit: roll back, close, forget the session."""
        try:
            if rollback:
                await session.rollback()
        except Exception:  # the connection is gone: closing it is all there is left to do
            log.debug("session rollback failed", exc_info=True)
        finally:
            try:
                await session.close()
            except Exception:
                log.debug("session close failed", exc_info=True)
            state: dict[str, Any] = scope.get("_aa_connection_state") or {}  # type: ignore[assignment]
            state.pop(self.database_config.session_scope_key, None)
