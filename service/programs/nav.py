"""The navigation of the program pages: the figures pages' links, then the program's own."""

from __future__ import annotations

from service.contracts.nav import nav
from service.identity.principal import Principal
from service.lib.i18n import gettext


def program_nav(principal: Principal) -> list[dict[str, str]]:
    items = nav(principal)
    # One header link; the program's pages link to each other (templates/programs/_subnav.html).
    items.append({"href": "/programs/sessions", "label": gettext("Briefings and training")})
    return items
