"""The navigation of the program pages: the figures pages' links, then the program's own."""

from __future__ import annotations

from service.contracts.nav import nav
from service.identity.principal import Principal
from service.lib.i18n import gettext


def program_nav(principal: Principal) -> list[dict[str, str]]:
    items = nav(principal)
    items.append({"href": "/programs/sessions", "label": gettext("Briefings and training")})
    if principal.is_staff:
        items += [
            {"href": "/programs/activities", "label": gettext("Cooperation")},
            {"href": "/reports/programs", "label": gettext("Program results")},
        ]
    return items
