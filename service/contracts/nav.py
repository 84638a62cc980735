"""The navigation shared by the contract pages and the figures (reports) pages."""

from __future__ import annotations

from service.identity.principal import Principal
from service.lib.i18n import gettext


def nav(principal: Principal) -> list[dict[str, str]]:
    items = [{"href": "/contracts", "label": gettext("Contracts")}]
    if principal.is_staff:
        items += [
            {"href": "/reports", "label": gettext("Figures")},
            {"href": "/staff/purchases", "label": gettext("Targets and purchases")},
        ]
    else:
        items.append({"href": "/reports/mine", "label": gettext("Our figures")})
    return items
