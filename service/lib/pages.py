"""Helpers for HTML controllers: render a page with the caller and the language in context."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.lib.bounds import MAX_LIST_ITEMS
from service.lib.errors import DomainError, FieldErrors
from service.lib.i18n import current_locale


def render(request: Request[Any, Any, Any], template_name: str, *, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    return Template(
        template_name=template_name,
        context={"principal": request.scope.get("user"), "locale": current_locale(), **context},
        status_code=status_code,
    )


Rerender = Callable[[DomainError], Awaitable[Response[Any]] | Response[Any]]


async def form_action(
    db_session: AsyncSession,
    action: Callable[[], Awaitable[Response[Any]]],
    rerender: Rerender,
    *,
    catch: type[DomainError] | tuple[type[DomainError], ...] = DomainError,
) -> Response[Any]:
    """Run an HTML form's action in a savepoint; when it refuses, undo its writes and show the form again.

    Every page handler that writes goes through here, so no partial write can survive a refusal (even when
    the re-rendered form answers 200 to htmx). `rerender(error)` builds the form page with the error's
    field messages (see `field_errors`); errors not in `catch` propagate to the error page.
    """
    try:
        async with db_session.begin_nested():
            return await action()
    except catch as error:
        page = rerender(error)
        return await page if inspect.isawaitable(page) else page


def field_errors(error: DomainError | FieldErrors, strip_prefix: str = "") -> dict[str, str]:
    """{field: message} for showing each error next to its field."""
    items = error.errors if isinstance(error, DomainError) else error.items
    out: dict[str, str] = {}
    for item in items:
        name = item.field.removeprefix(strip_prefix)
        out.setdefault(name, item.message)
    if isinstance(error, DomainError) and not out:
        out["_form"] = error.detail
    return out


def form_values(form: FormMultiDict) -> dict[str, Any]:
    """What the user typed, to refill a form shown again with errors (`<name>_list` for multi-values)."""
    values: dict[str, Any] = {}
    for key in form:
        items = [str(v) for v in form.getall(key)]
        values[key] = items[-1] if items else ""
        values[f"{key}_list"] = items
    return values


def redirect(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths, never //host or a scheme."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


class FormReader:
    """Typed reads of an urlencoded form, collecting errors instead of raising."""

    def __init__(self, form: FormMultiDict, errors: FieldErrors) -> None:
        self.form = form
        self.errors = errors

    def text(self, name: str) -> str | None:
        value = self.form.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def many(self, name: str) -> list[str] | None:
        values = [str(v).strip() for v in self.form.getall(name, []) if str(v).strip()]
        if len(values) > MAX_LIST_ITEMS:
            self.errors.add(name, "too many values (at most 1,000)")
            return None
        return values or None

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return int(raw.replace(",", "").replace(" ", ""))
        except ValueError:
            self.errors.add(name, "must be a whole number")
            return None

    def decimal(self, name: str) -> float | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError:
            self.errors.add(name, "must be a number")
            return None

    def day(self, name: str) -> date | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.add(name, "must be a date (YYYY-MM-DD)")
            return None
