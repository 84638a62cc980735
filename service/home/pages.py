"""`/`: the landing page for visitors, and each signed-in role's home (what waits for them today)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from service.home.service import HomeService, waited_label
from service.identity.principal import Principal
from service.lib.amounts import percent
from service.lib.clock import SEOUL, today
from service.lib.deps import provide_service
from service.lib.i18n import current_locale, format_day, format_time_range
from service.lib.pages import render


def meeting_when(start: datetime, end: datetime) -> str:
    """2026. 12. 15.(화) 10:00~10:30: the day with its year, then the time range, in Seoul time."""
    return f"{format_day(start.astimezone(SEOUL).date())} {format_time_range(start, end)}"


class HomePages(Controller):
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"home": provide_service(HomeService)}

    @get("/")
    async def home(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        home: NamedDependency[HomeService],
    ) -> Template:
        """Visitors and organizations awaiting verification see the welcome page; everyone else their home."""
        if principal is None or not principal.is_verified:
            return render(request, "home.html")
        on_day = today()
        helpers: dict[str, Any] = {
            "percent": percent,
            "slot": meeting_when,
            "waited": waited_label,
            "today_date": on_day,
            "today_year": on_day.year,
        }
        if principal.is_staff:
            return render(request, "home/staff.html", home=await home.staff(principal), **helpers)
        if principal.is_agency:
            return render(request, "home/agency.html", home=await home.agency(principal), **helpers)
        return render(request, "home/firm.html", home=await home.firm(principal, current_locale()), **helpers)


ROUTES = [HomePages]
