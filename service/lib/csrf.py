"""CSRF tokens for the HTML forms, bound to the caller's session.

Litestar's CSRF middleware is a double-submit cookie: any valid (cookie, token) pair passes,
whoever's session rides along, so a token taken from one session worked with another session's
cookie. Here a signed-in caller's token is an HMAC of their session credential: only the session
it was issued to can use it, and signing out (a new session) retires it. Forms served to
anonymous visitors (sign-in, registration) keep the double-submit pair, since there is no
session yet to bind to.

The JSON API is exempt: its writes need a bearer token, which a foreign page cannot send.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
SESSION_COOKIE = "pm_session"  # service.accounts.auth.SESSION_COOKIE (not imported: lib stays below accounts)
# Forms that start a session rather than act in one.
ANONYMOUS_FORMS = frozenset({"/login", "/register"})
EXEMPT_PREFIXES = ("/api/", "/static/", "/schema")
EXEMPT_PATHS = frozenset({"/health", "/ready"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_RANDOM_HEX = 64


def _mac(secret: str, purpose: bytes, value: str) -> str:
    return hmac.new(secret.encode(), purpose + b"\0" + value.encode(), hashlib.sha256).hexdigest()


def session_token(secret: str, credential: str) -> str:
    """The form token of the session whose raw credential (cookie or bearer value) is given."""
    return _mac(secret, b"csrf-session", credential)


def anonymous_token(secret: str) -> str:
    """A fresh double-submit token: random part and its HMAC (so a forged cookie is refused)."""
    random_part = secrets.token_hex(_RANDOM_HEX // 2)
    return random_part + _mac(secret, b"csrf-anonymous", random_part)


def _valid_anonymous(secret: str, token: str) -> bool:
    random_part, mac = token[:_RANDOM_HEX], token[_RANDOM_HEX:]
    return len(random_part) == _RANDOM_HEX and hmac.compare_digest(mac, _mac(secret, b"csrf-anonymous", random_part))


def _headers(scope: Scope) -> dict[bytes, str]:
    return {key: value.decode("latin-1") for key, value in scope.get("headers", [])}


def _cookies(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            out.setdefault(key, value)
    return out


def _session_credential(scope: Scope, headers: dict[bytes, str], cookies: dict[str, str]) -> str | None:
    """The raw credential that signed the caller in (as AuthMiddleware chose it), if anyone is."""
    if scope.get("user") is None:
        return None
    authorization = headers.get(b"authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return cookies.get(SESSION_COOKIE)


class SessionCsrfMiddleware:
    """Checks `_csrf_token` (form field) or `X-CSRFToken` (htmx header) on unsafe HTML requests;
    puts the caller's token in scope for `csrf_token()` in templates. Runs after AuthMiddleware.
    A plain ASGI layer; the API, static files, the schema and the probes pass straight through."""

    def __init__(self, secret: str, secure_cookie: bool, app: ASGIApp) -> None:
        self.app = app
        self.secret = secret
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["type"] != ScopeType.HTTP or path.startswith(EXEMPT_PREFIXES) or path in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send, self.app)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = _headers(scope)
        cookies = _cookies(headers.get(b"cookie", ""))
        credential = _session_credential(scope, headers, cookies)
        cookie_token = cookies.get(CSRF_COOKIE)
        if cookie_token is not None and not _valid_anonymous(self.secret, cookie_token):
            cookie_token = None  # forged or from another key: replace it
        if credential is not None:
            expected = session_token(self.secret, credential)
        else:
            expected = cookie_token or anonymous_token(self.secret)
        state = ScopeState.from_scope(scope)

        if scope.get("method", "GET") in SAFE_METHODS:
            state.csrf_token = expected
            await next_app(scope, receive, self._with_cookie(send, None if cookie_token else expected, credential))
            return

        sent: str | None = headers.get(CSRF_HEADER.encode())
        if sent is None:
            request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
            content_type, _ = request.content_type
            if content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
                value = (await request.form()).get(CSRF_FIELD)
                sent = value if isinstance(value, str) else None
        if not self._accepted(sent, expected, credential, cookie_token, scope["path"]):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = expected
        await next_app(scope, receive, send)

    @staticmethod
    def _accepted(sent: str | None, expected: str, credential: str | None, cookie: str | None, path: str) -> bool:
        if sent is None:
            return False
        if credential is None and cookie is None:
            return False  # an anonymous token is only good with the cookie it was issued with
        if hmac.compare_digest(sent.encode(), expected.encode()):
            return True
        # The sign-in and registration forms replace any session, so a form served before signing
        # in (another tab) may still be sent with its anonymous pair.
        return path in ANONYMOUS_FORMS and cookie is not None and hmac.compare_digest(sent.encode(), cookie.encode())

    def _with_cookie(self, send: Send, new_token: str | None, credential: str | None) -> Send:
        """Set the anonymous double-submit cookie when the visitor has none (signed-in callers
        do not need it, but keep one for the forms they see after signing out)."""
        if new_token is None:
            return send

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                token = new_token if credential is None else anonymous_token(self.secret)
                cookie = Cookie(
                    key=CSRF_COOKIE,
                    value=token,
                    path="/",
                    secure=self.secure_cookie,
                    httponly=True,
                    samesite="lax",
                )
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        return send_with_cookie
