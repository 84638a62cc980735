"""HTML pages of briefing and training sessions and of cooperation activities."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.clock import SEOUL, now
from service.lib.deps import provide_service
from service.lib.errors import DomainError, FieldErrors, ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pager import Pager, page_number
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render
from service.programs.activities import ActivityService
from service.programs.labels import ACTIVITY_KINDS, AUDIENCES, REGISTRATION_STATUSES, SESSION_KINDS, label
from service.programs.nav import program_nav
from service.programs.schemas import ActivityIn, SessionIn, SessionPatch
from service.programs.sessions import SessionService

PAGE_SIZE = 30


def _moment(read: FormReader, day_field: str, time_field: str) -> datetime | None:
    day = read.day(day_field)
    raw = read.text(time_field)
    if day is None or raw is None:
        return None
    try:
        clock = time.fromisoformat(raw)
    except ValueError:
        read.errors.add(time_field, "must be a time (HH:MM)")
        return None
    return datetime.combine(day, clock, tzinfo=SEOUL)


def session_from_form(read: FormReader) -> SessionIn:
    """The create form: every missing or malformed field reported at once."""
    for name in ("title", "kind", "audience", "day", "start", "end", "capacity"):
        if read.text(name) is None:
            read.errors.add(name, "required")
    starts, ends = _moment(read, "day", "start"), _moment(read, "day", "end")
    capacity = read.integer("capacity")
    read.errors.raise_if_any()
    if starts is None or ends is None or capacity is None:  # reported above; this keeps the types exact
        raise ValidationFailed.single("day", "required")
    return SessionIn(
        title=read.text("title") or "",
        kind=read.text("kind") or "",
        audience=read.text("audience") or "",
        starts_at=starts,
        ends_at=ends,
        capacity=capacity,
        place=read.text("place"),
        online_url=read.text("online_url"),
        description=read.text("description") or "",
    )


def _labels(locale: str) -> dict[str, Any]:
    return {
        "kinds": [(k, label(SESSION_KINDS, k, locale)) for k in SESSION_KINDS],
        "audiences": [(a, label(AUDIENCES, a, locale)) for a in AUDIENCES],
        "statuses": {s: label(REGISTRATION_STATUSES, s, locale) for s in REGISTRATION_STATUSES},
        "kind_label": lambda code: label(SESSION_KINDS, code, locale),
        "audience_label": lambda code: label(AUDIENCES, code, locale),
    }


class SessionPages(Controller):
    path = "/programs/sessions"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"sessions": provide_service(SessionService)}

    @get("/")
    async def session_list(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
        page: FromQuery[str | None] = None,
    ) -> Template:
        """Staff: every session, newest first; organizations: the coming ones open to them."""
        number = page_number(page)
        upcoming = not verified_org.is_staff
        rows, total = await sessions.list_for(
            verified_org, upcoming=upcoming, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        return render(
            request,
            "programs/sessions.html",
            rows=rows,
            counts=await sessions.counts(rows),
            pager=Pager(number, total, {}, PAGE_SIZE),
            now=now(),
            nav_items=program_nav(verified_org),
            **_labels(current_locale()),
        )

    async def _new_form(self, request: Request[Any, Any, Any], staff: Principal, **extra: Any) -> Template:
        return render(
            request, "programs/session_new.html", nav_items=program_nav(staff), **_labels(current_locale()), **extra
        )

    @get("/new", guards=[staff_only])
    async def new_session_form(self, request: Request[Any, Any, Any], staff: NamedDependency[Principal]) -> Template:
        return await self._new_form(request, staff, values={"capacity": "50", "kind": "briefing", "audience": "both"})

    @post("/new", guards=[staff_only])
    async def create_session_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())

        async def create() -> Response[Any]:
            created = await sessions.create(staff, session_from_form(read))
            return redirect(f"/programs/sessions/{created.id}?done=created")

        async def rerender(error: DomainError) -> Response[Any]:
            errors = field_errors(error)
            if "starts_at" in errors:
                errors.setdefault("start", errors.pop("starts_at"))
            if "ends_at" in errors:
                errors.setdefault("end", errors.pop("ends_at"))
            page = await self._new_form(request, staff, values=form_values(form), errors=errors)
            page.status_code = 422
            return page

        return await form_action(db_session, create, rerender)

    async def _detail(
        self, request: Request[Any, Any, Any], viewer: Principal, sessions: SessionService, session_id: uuid.UUID,
        **extra: Any,
    ) -> Template:  # fmt: skip
        found = await sessions.get(viewer, session_id)
        registered, waitlisted = (await sessions.counts([found])).get(found.id, (0, 0))
        return render(
            request,
            "programs/session_detail.html",
            s=found,
            registered=registered,
            waitlisted=waitlisted,
            registrations=await sessions.registrations(viewer, found),
            members=[] if viewer.is_staff else await sessions.members(viewer),
            now=now(),
            nav_items=program_nav(viewer),
            **_labels(current_locale()),
            **extra,
        )

    def _refused(
        self, request: Request[Any, Any, Any], viewer: Principal, sessions: SessionService, session_id: uuid.UUID,
        **extra: Any,
    ) -> Callable[[DomainError], Awaitable[Response[Any]]]:  # fmt: skip
        """The session's page again, with the refused form's errors and the refusal's status."""

        async def rerender(error: DomainError) -> Response[Any]:
            page = await self._detail(request, viewer, sessions, session_id, errors=field_errors(error), **extra)
            page.status_code = error.status
            return page

        return rerender

    @get("/{session_id:uuid}")
    async def session_detail(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> Template:
        return await self._detail(request, verified_org, sessions, session_id)

    @post("/{session_id:uuid}/register")
    async def register_page(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())

        async def register() -> Response[Any]:
            ids = [_uuid(read, v) for v in read.many("user_ids") or [str(verified_org.user_id)]]
            read.errors.raise_if_any()
            rows = await sessions.register(verified_org, session_id, [i for i in ids if i is not None])
            return redirect(f"/programs/sessions/{session_id}?done={rows[0].status}")

        return await form_action(db_session, register, self._refused(request, verified_org, sessions, session_id))

    @post("/{session_id:uuid}/registrations/{registration_id:uuid}/cancel")
    async def cancel_registration_page(
        self,
        session_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> Response[Any]:
        await sessions.get(verified_org, session_id)
        await sessions.cancel_registration(verified_org, registration_id)
        return redirect(f"/programs/sessions/{session_id}?done=cancelled")

    @post("/{session_id:uuid}/attendance", guards=[staff_only])
    async def attendance_page(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())

        async def record() -> Response[Any]:
            ids = {i for i in (_uuid(read, v) for v in read.many("attended") or []) if i is not None}
            read.errors.raise_if_any()
            await sessions.record_attendance(staff, session_id, ids)
            return redirect(f"/programs/sessions/{session_id}?done=attendance")

        return await form_action(db_session, record, self._refused(request, staff, sessions, session_id))

    @post("/{session_id:uuid}/materials", guards=[staff_only])
    async def materials_page(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())

        async def share() -> Response[Any]:
            await sessions.update(staff, session_id, SessionPatch(materials_url=read.text("materials_url") or ""))
            return redirect(f"/programs/sessions/{session_id}?done=materials")

        refused = self._refused(request, staff, sessions, session_id, values=form_values(form))
        return await form_action(db_session, share, refused)


def _uuid(read: FormReader, raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        read.errors.add("user_ids", "not a valid id")
        return None


class ActivityPages(Controller):
    path = "/programs/activities"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {"activities": provide_service(ActivityService)}

    async def _page(
        self, request: Request[Any, Any, Any], staff: Principal, activities: ActivityService, page: str | None,
        **extra: Any,
    ) -> Template:  # fmt: skip
        number = page_number(page)
        rows, total = await activities.list(None, (number - 1) * PAGE_SIZE, PAGE_SIZE)
        locale = current_locale()
        return render(
            request,
            "programs/activities.html",
            rows=rows,
            pager=Pager(number, total, {}, PAGE_SIZE),
            kinds=[(k, label(ACTIVITY_KINDS, k, locale)) for k in ACTIVITY_KINDS],
            kind_label=lambda code: label(ACTIVITY_KINDS, code, locale),
            nav_items=program_nav(staff),
            **extra,
        )

    @get("/")
    async def activity_list(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        activities: NamedDependency[ActivityService],
        page: FromQuery[str | None] = None,
    ) -> Template:
        """Staff: cooperation activities, newest first, and the form to log one."""
        return await self._page(request, staff, activities, page)

    @post("/")
    async def log_activity_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        activities: NamedDependency[ActivityService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())

        async def log() -> Response[Any]:
            for name in ("partner", "date", "kind"):
                if read.text(name) is None:
                    read.errors.add(name, "required")
            day = read.day("date")
            links = [line.strip() for line in (read.text("links") or "").splitlines() if line.strip()]
            if len(links) > 10:
                read.errors.add("links", "at most 10 links")
            read.errors.raise_if_any()
            assert day is not None
            data = ActivityIn(partner=read.text("partner") or "", date=day, kind=read.text("kind") or "",
                              description=read.text("description") or "", links=links)  # fmt: skip
            await activities.log(staff, data)
            return redirect("/programs/activities?done=logged")

        async def rerender(error: DomainError) -> Response[Any]:
            errors = {("links" if k.startswith("links[") else k): v for k, v in field_errors(error).items()}
            page = await self._page(request, staff, activities, None, values=form_values(form), errors=errors)
            page.status_code = 422
            return page

        return await form_action(db_session, log, rerender)
