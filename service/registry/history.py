"""An organization's audit trail for people: 상태: 대기 → 승인, 금액: – → 12,500,000원, not stored keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.identity.models import AuditEvent
from service.lib.i18n import field_label, format_krw, format_number, gettext
from service.registry.districts import district_name
from service.registry.taxonomy import category_name

EMPTY = "–"


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    action: str
    changes: list[Change]
    reason: str | None


def action_label(action: str, locale: str | None = None) -> str:
    """`organization.verify` → 승인 (the catalog's `history.<action>`), else the key as it is."""
    key = f"history.{action}"
    label = gettext(key, locale)
    return action if label == key else label


def value_text(field: str, value: Any, locale: str) -> str:
    """One stored value as a person reads it, in the unit and words of its field."""
    if value is None or value in ("", []):
        return EMPTY
    if isinstance(value, list):
        return ", ".join(value_text(field, item, locale) for item in value)
    if isinstance(value, bool):
        return gettext("yes" if value else "no", locale)
    if isinstance(value, (int, float)):
        return number_text(field, value, locale)
    return code_text(field, str(value), locale)


def number_text(field: str, value: float, locale: str) -> str:
    if field.endswith("_krw"):
        return format_krw(int(value), locale)
    if field == "vulnerable_employee_ratio":
        return f"{format_number(round(value * 100, 1), locale)}%"
    return format_number(value, locale)


def code_text(field: str, value: str, locale: str) -> str:
    if field == "status":
        return gettext(f"status.{value}", locale)
    if field in ("firm_types", "agency_type"):
        return gettext(f"{field.removesuffix('s')}.{value}", locale)
    if field == "member_role":
        return gettext(f"member_role.{value}", locale)
    if field == "district":
        return district_name(value, locale)
    if field == "category_codes":
        return category_name(value, locale)
    return value


def readable_history(events: list[AuditEvent], locale: str) -> list[HistoryRow]:
    rows = []
    for event in events:
        changes = [
            Change(
                field_label(field, locale),
                value_text(field, (change or {}).get("old"), locale),
                value_text(field, (change or {}).get("new"), locale),
            )
            for field, change in (event.changes or {}).items()
            if isinstance(change, dict)
        ]
        rows.append(HistoryRow(event.at, action_label(event.action, locale), changes, event.reason))
    return rows
