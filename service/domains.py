"""The one list of the business's domains, in dependency order.

The kernel (`service.config`, `service.db`, `service.lib`, `service.identity`) imports only kernel packages
before it; a domain may import the kernel and the domains listed before it, never one listed after it
(tests/unit/test_architecture.py checks this).
The app layer (`service.plugin`, `service.scheduler`, `service.schema`) walks this list to collect routes,
jobs and tables, and `service.lib.events` to load event subscribers. This module imports nothing of the
service, so every layer may read it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

KERNEL = ("config", "db", "lib", "identity")

DOMAINS = (
    "registry",
    "accounts",
    "needs",
    "fairs",
    "contracts",
    "matching",
    "consultations",
    "programs",
    "reports",
    "notify",
    "health",
    "home",
)


def domain_modules(module_name: str) -> list[ModuleType]:
    """`service.<domain>.<module_name>` of every domain that has one, in dependency order."""
    modules: list[ModuleType] = []
    for domain in DOMAINS:
        qualified = f"service.{domain}.{module_name}"
        try:
            modules.append(importlib.import_module(qualified))
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise
    return modules
