"""JSON API of briefing and training sessions, cooperation activities, program targets and the program table."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from service.contracts.targets import check_year
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.deps import provide_service
from service.lib.errors import ValidationFailed
from service.lib.i18n import set_locale
from service.lib.pagination import Page, check_page
from service.programs import exports
from service.programs.activities import ActivityService
from service.programs.report import ProgramReport, ProgramReportService
from service.programs.schemas import (
    ActivityIn,
    ActivityOut,
    AttendanceIn,
    ProgramReportOut,
    ProgramRowOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationsOut,
    SessionIn,
    SessionOut,
    SessionPatch,
    TargetsIn,
    activity_out,
    registration_out,
    session_out,
)
from service.programs.sessions import SessionService

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_out(report: ProgramReport) -> ProgramReportOut:
    return ProgramReportOut(
        year=report.year,
        rows=[
            ProgramRowOut(
                code=r.code,
                name=r.name,
                unit=r.unit,
                target=r.target,
                actual=r.actual,
                achievement_rate=r.achievement_rate,
                monthly=r.monthly,
            )
            for r in report.rows
        ],
    )


def check_lang(lang: str) -> str:
    if lang not in ("ko", "en"):
        raise ValidationFailed.single("lang", "must be ko or en")
    set_locale(lang)
    return lang


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


class SessionController(Controller):
    path = "/api/v1/sessions"
    tags = ["programs"]
    dependencies = {"sessions": provide_service(SessionService)}

    @post("/", guards=[staff_only])
    async def create_session(
        self, data: JSONBody[SessionIn], staff: NamedDependency[Principal], sessions: NamedDependency[SessionService]
    ) -> SessionOut:
        """Staff: a briefing or training session (date, place or online room, capacity, audience)."""
        return session_out(await sessions.create(staff, data))

    @get("/")
    async def list_sessions(
        self,
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
        upcoming: FromQuery[bool] = False,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[SessionOut]:
        """Staff: every session, newest first; organizations: the scheduled ones open to them."""
        offset, limit = check_page(page, page_size)
        rows, total = await sessions.list_for(verified_org, upcoming=upcoming, offset=offset, limit=limit)
        counts = await sessions.counts(rows)
        items = [session_out(s, *counts.get(s.id, (0, 0))) for s in rows]
        return Page(items=items, total=total, page=page, page_size=page_size)

    @get("/{session_id:uuid}")
    async def get_session(
        self,
        session_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> SessionOut:
        found = await sessions.get(verified_org, session_id)
        return session_out(found, *(await sessions.counts([found])).get(found.id, (0, 0)))

    @patch("/{session_id:uuid}", guards=[staff_only])
    async def update_session(
        self,
        session_id: FromPath[uuid.UUID],
        data: JSONBody[SessionPatch],
        staff: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> SessionOut:
        """Staff: share the materials link (mailed to everyone registered) or cancel the session."""
        return session_out(await sessions.update(staff, session_id, data))

    @post("/{session_id:uuid}/registrations")
    async def register(
        self,
        session_id: FromPath[uuid.UUID],
        data: JSONBody[RegistrationIn],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> RegistrationsOut:
        """Register the caller or members of the caller's organization: a seat, else the waiting list."""
        rows = await sessions.register(verified_org, session_id, data.user_ids)
        return RegistrationsOut(status=str(rows[0].status), registrations=[registration_out(r) for r in rows])

    @get("/{session_id:uuid}/registrations")
    async def list_registrations(
        self,
        session_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> list[RegistrationOut]:
        """Staff: everyone's, in line order; an organization: its own members'."""
        found = await sessions.get(verified_org, session_id)
        return [registration_out(r) for r, _ in await sessions.registrations(verified_org, found)]

    @delete("/{session_id:uuid}/registrations/{registration_id:uuid}", status_code=200)
    async def cancel_registration(
        self,
        session_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> RegistrationOut:
        """Cancel a registration (its organization or staff); the first on the waiting list moves up."""
        await sessions.get(verified_org, session_id)
        return registration_out(await sessions.cancel_registration(verified_org, registration_id))

    @patch("/{session_id:uuid}/registrations/{registration_id:uuid}", guards=[staff_only])
    async def mark_attendance(
        self,
        session_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID],
        data: JSONBody[AttendanceIn],
        staff: NamedDependency[Principal],
        sessions: NamedDependency[SessionService],
    ) -> RegistrationOut:
        """Staff: attended or not, once the session has begun."""
        return registration_out(await sessions.mark_attendance(staff, session_id, registration_id, data.attended))


class ActivityController(Controller):
    path = "/api/v1/activities"
    tags = ["programs"]
    guards = [staff_only]
    dependencies = {"activities": provide_service(ActivityService)}

    @post("/")
    async def log_activity(
        self,
        data: JSONBody[ActivityIn],
        staff: NamedDependency[Principal],
        activities: NamedDependency[ActivityService],
    ) -> ActivityOut:
        """Staff: a cooperation activity with a partner (partner, date, kind, description, links)."""
        return activity_out(await activities.log(staff, data))

    @get("/")
    async def list_activities(
        self,
        staff: NamedDependency[Principal],
        activities: NamedDependency[ActivityService],
        year: FromQuery[int | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[ActivityOut]:
        offset, limit = check_page(page, page_size)
        rows, total = await activities.list(year, offset, limit)
        return Page(items=[activity_out(a) for a in rows], total=total, page=page, page_size=page_size)


class ProgramController(Controller):
    path = "/api/v1"
    tags = ["programs"]
    guards = [staff_only]
    dependencies = {"programs": provide_service(ProgramReportService)}

    @put("/programs/targets/{year:int}")
    async def set_program_targets(
        self,
        year: FromPath[int],
        data: JSONBody[TargetsIn],
        staff: NamedDependency[Principal],
        programs: NamedDependency[ProgramReportService],
    ) -> dict[str, int]:
        """Staff: the year's target per program row (counts; amounts in won); rows not given keep theirs."""
        return await programs.set_targets(staff, year, data.targets)

    @get("/reports/programs")
    async def program_report(
        self, staff: NamedDependency[Principal], programs: NamedDependency[ProgramReportService], year: FromQuery[int]
    ) -> ProgramReportOut:
        """Staff: the program table — each row's target, result from the data, achievement rate, months."""
        return report_out(await programs.report(year))

    @get("/reports/programs.csv", media_type=CSV)
    async def program_report_csv(
        self,
        staff: NamedDependency[Principal],
        programs: NamedDependency[ProgramReportService],
        year: FromQuery[int],
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        check_lang(lang)
        check_year(year)
        body = exports.csv_bytes(await programs.report(year), lang)
        return Response(body, media_type=CSV, headers=attachment(f"programs-{year}.csv"))

    @get("/reports/programs.xlsx", media_type=XLSX)
    async def program_report_xlsx(
        self,
        staff: NamedDependency[Principal],
        programs: NamedDependency[ProgramReportService],
        year: FromQuery[int],
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        check_lang(lang)
        check_year(year)
        report = await programs.report(year)
        with tempfile.TemporaryDirectory(prefix="pm-programs-") as folder:
            path = Path(folder) / "programs.xlsx"
            exports.write_xlsx(report, path, lang)
            body = path.read_bytes()
        return Response(body, media_type=XLSX, headers=attachment(f"programs-{year}.xlsx"))


ROUTES = [SessionController, ActivityController, ProgramController]
