"""HTML pages of the programs: the program table (/reports/programs), briefing and training sessions,
cooperation activities."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.targets import report_year
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.amounts import EOK, percent
from service.lib.deps import provide_service
from service.lib.errors import DomainError, FieldErrors
from service.lib.i18n import current_locale, gettext
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render
from service.programs.charts import cumulative_rates, progress_chart
from service.programs.labels import program_name
from service.programs.models import ProgramCode
from service.programs.nav import program_nav
from service.programs.report import AMOUNT_ROWS, ProgramReportService, figure
from service.programs.session_pages import ActivityPages, SessionPages

YEARS_SHOWN = 2020


def targets_from_form(read: FormReader) -> dict[str, int]:
    """Counts as whole numbers; amounts in 억원 (101.5 → 10,150,000,000원). Blank: left as it is."""
    out: dict[str, int] = {}
    for code in ProgramCode:
        raw = read.text(f"target_{code.value}")
        if raw is None:
            continue
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            read.errors.add(f"target_{code.value}", "must be a number")
            continue
        amount = value * EOK if code in AMOUNT_ROWS else value
        if amount != amount.to_integral_value() or amount < 0:
            read.errors.add(f"target_{code.value}", "must be a whole number from 0")
            continue
        out[code.value] = int(amount)
    return out


class ProgramReportPages(Controller):
    path = "/reports/programs"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {"programs": provide_service(ProgramReportService)}

    async def _page(
        self,
        request: Request[Any, Any, Any],
        staff: Principal,
        programs: ProgramReportService,
        year: int | None,
        **extra: Any,
    ) -> Template:
        chosen, years = report_year(year, [YEARS_SHOWN])
        report = await programs.report(chosen)
        locale = current_locale()
        series = [(r.name, cumulative_rates(r.monthly, r.target)) for r in report.rows]
        month_label = "%d월" if locale == "ko" else "%d"
        chart = progress_chart(gettext("Cumulative results against the target, by month"), series, month_label)
        return render(
            request,
            "programs/report.html",
            year=chosen,
            years=years,
            report=report,
            program_name=program_name(locale),
            figure=figure,
            percent=percent,
            chart=chart,
            series=series,
            eok=EOK,
            nav_items=program_nav(staff),
            **extra,
        )

    @get("/")
    async def program_table(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        programs: NamedDependency[ProgramReportService],
        year: FromQuery[int | None] = None,
    ) -> Template:
        """Staff: the program table of a year, in the report's layout, with the monthly progress."""
        return await self._page(request, staff, programs, year)

    @post("/targets")
    async def save_targets(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        programs: NamedDependency[ProgramReportService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())
        year = read.integer("year") or 0

        async def save() -> Response[Any]:
            targets = targets_from_form(read)
            read.errors.raise_if_any()
            await programs.set_targets(staff, year, targets)
            return redirect(f"/reports/programs?year={year}&done=targets")

        async def rerender(error: DomainError) -> Response[Any]:
            errors = {k.replace("targets.", "target_"): v for k, v in field_errors(error).items()}
            page = await self._page(request, staff, programs, year, values=form_values(form), errors=errors)
            page.status_code = 422
            return page

        return await form_action(db_session, save, rerender)


ROUTES = [ProgramReportPages, SessionPages, ActivityPages]
