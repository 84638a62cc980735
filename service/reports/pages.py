"""HTML pages of the figures: the staff dashboard, each organization's own figures, export jobs."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from service.contracts.nav import nav
from service.contracts.targets import report_year
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.amounts import money, percent
from service.lib.deps import provide_service
from service.lib.errors import ValidationFailed
from service.lib.i18n import current_locale, gettext
from service.lib.pages import redirect, render
from service.reports.charts import bar_chart, column_chart, rate_chart
from service.reports.export_service import ExportService
from service.reports.repository import SalesFilter
from service.reports.schemas import job_out
from service.reports.service import ReportService

EXPORT_KINDS = {"contracts_csv": ".csv", "contracts_xlsx": ".xlsx", "ocds": ".json"}


def _months(rows: list[Any], year: int) -> list[tuple[str, int]]:
    by_key = {r.key: r.amount_krw for r in rows}
    return [(f"{m}", by_key.get(f"{year}-{m:02d}", 0)) for m in range(1, 13)]


class ReportPages(Controller):
    path = "/reports"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"reports": provide_service(ReportService), "exports_service": provide_service(ExportService)}

    @get("/", guards=[staff_only])
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        year: FromQuery[int | None] = None,
    ) -> Template:
        """Staff: linked sales by fair, monthly trend, firm and agency types, target achievement."""
        chosen, years = report_year(year, await reports.data_years(staff))
        locale = current_locale()
        linked = SalesFilter(year=chosen, linked_only=True)
        everything = SalesFilter(year=chosen)
        by_fair = await reports.sales(staff, linked, "fair")
        by_month = await reports.sales(staff, everything, "month")
        by_firm_type = await reports.sales(staff, everything, "firm_type")
        by_agency_type = await reports.sales(staff, everything, "agency_type")
        fairs = await reports.fair_summary(staff, chosen)
        targets = await reports.targets(staff, chosen)
        ranked = sorted(targets.rows, key=lambda r: r.achievement_rate or 0, reverse=True)
        charts = {
            "fair": bar_chart(
                gettext("Linked sales by fair"), [(r.label, r.amount_krw) for r in by_fair.rows], locale=locale
            ),
            "month": column_chart(
                gettext("Confirmed contracts by month"), _months(by_month.rows, chosen), locale=locale
            ),
            "firm_type": bar_chart(
                gettext("By firm type"), [(r.label, r.amount_krw) for r in by_firm_type.rows], locale=locale
            ),
            "agency_type": bar_chart(
                gettext("By agency type"), [(r.label, r.amount_krw) for r in by_agency_type.rows], locale=locale
            ),
            "targets": rate_chart(
                gettext("Target achievement"),
                [(gettext("All agencies"), targets.total.achievement_rate)]
                + [(r.name, r.achievement_rate) for r in ranked[:15]],
            ),
        }
        return render(
            request,
            "reports/dashboard.html",
            year=chosen,
            years=years,
            by_fair=by_fair,
            by_month=by_month,
            by_firm_type=by_firm_type,
            by_agency_type=by_agency_type,
            fairs=fairs,
            targets=targets,
            charts=charts,
            money=money,
            percent=percent,
            nav_items=nav(staff),
        )

    @get("/mine")
    async def own_figures(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        year: FromQuery[int | None] = None,
    ) -> Template:
        """An agency's or a firm's own figures: by month, by fair, and (agencies) the target."""
        chosen, years = report_year(year, await reports.data_years(viewer))
        locale = current_locale()
        by_month = await reports.sales(viewer, SalesFilter(year=chosen), "month")
        by_fair = await reports.sales(viewer, SalesFilter(year=chosen, linked_only=True), "fair")
        targets = await reports.targets(viewer, chosen) if viewer.is_agency or viewer.is_staff else None
        charts = {
            "month": column_chart(
                gettext("Confirmed contracts by month"), _months(by_month.rows, chosen), locale=locale
            ),
            "fair": bar_chart(
                gettext("Linked sales by fair"), [(r.label, r.amount_krw) for r in by_fair.rows], locale=locale
            ),
        }
        return render(
            request,
            "reports/mine.html",
            year=chosen,
            years=years,
            by_month=by_month,
            by_fair=by_fair,
            targets=targets,
            charts=charts,
            money=money,
            percent=percent,
            nav_items=nav(viewer),
        )

    @get("/export")
    async def start_export(
        self,
        viewer: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
        kind: FromQuery[str],
        year: FromQuery[int | None] = None,
        lang: FromQuery[str] = "ko",
    ) -> Response[Any]:
        """Small exports download at once; more than 100,000 rows become a job with a progress page."""
        if kind not in EXPORT_KINDS or lang not in ("ko", "en"):
            raise ValidationFailed.single("kind", "unknown export")
        _, _, job = await exports_service.start(viewer, kind, SalesFilter(year=year), lang)
        if job is not None:
            return redirect(f"/reports/exports/{job.id}")
        query = f"?year={year}&lang={lang}" if year else f"?lang={lang}"
        target = {"contracts_csv": "contracts.csv", "contracts_xlsx": "contracts.xlsx", "ocds": "ocds.json"}[kind]
        return redirect(f"/api/v1/exports/{target}{query}")

    @get("/exports/{job_id:uuid}")
    async def export_job(
        self,
        request: Request[Any, Any, Any],
        job_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
    ) -> Template:
        """The progress of a background export, polled by htmx; the download link when done."""
        job = job_out(await exports_service.job_for(viewer, job_id))
        fragment = request.headers.get("hx-request") == "true"
        return render(
            request,
            "reports/_job_progress.html" if fragment else "reports/export_job.html",
            job=job,
            nav_items=nav(viewer),
        )


ROUTES = [ReportPages]
