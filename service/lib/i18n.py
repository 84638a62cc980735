"""Translations from Babel .po catalogs (service/i18n/<locale>/*.po) and locale-aware formatting.

Source strings are English; Korean is the default interface language. Every domain keeps
its own catalog file so that they never collide; all files of a locale are merged.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from service.config import SUPPORTED_LOCALES

CATALOG_DIR = Path(__file__).resolve().parent.parent / "i18n"
_locale: ContextVar[str] = ContextVar("locale", default="ko")


def current_locale() -> str:
    return _locale.get()


def set_locale(locale: str) -> None:
    _locale.set(locale if locale in SUPPORTED_LOCALES else "ko")


@lru_cache(maxsize=8)
def catalog(locale: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    folder = CATALOG_DIR / locale
    if not folder.is_dir():
        return messages
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id and message.string and isinstance(message.id, str):
                    messages[message.id] = str(message.string)
    return messages


def gettext(message: str, locale: str | None = None) -> str:
    """The message in `locale`; a message not in the catalog as it stands is read as a problem's detail
    (`field: message; field: message`) or matched against the catalog's patterns (`at most {n} days`)."""
    loc = locale or current_locale()
    found = catalog(loc).get(message)
    if found is not None:
        return found
    if loc == "en" or not message:
        return message
    return _composite(message, loc)


# a field name as the API reports it: reason, days[0].date, weights.category
_FIELD = re.compile(r"[a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*")


def _composite(message: str, loc: str) -> str:
    parts = []
    for part in message.split("; "):
        field, sep, text = part.partition(": ")
        if sep and _FIELD.fullmatch(field):
            parts.append(f"{field_label(field, loc)}: {_pattern(text, loc)}")
        else:
            parts.append(_pattern(part, loc))
    return "; ".join(parts)


def field_label(field: str, locale: str | None = None) -> str:
    """A form field's name for people: `days[0].date` → 날짜 (ko), the catalog's `field:<name>` entry."""
    loc = locale or current_locale()
    base = re.sub(r"\[\d+\]", "", field).rsplit(".", 1)[-1]
    return catalog(loc).get(f"field:{base}") or base.replace("_", " ").capitalize()


def _pattern(text: str, loc: str) -> str:
    found = catalog(loc).get(text)
    if found is not None:
        return found
    for regex, template in patterns(loc):
        match = regex.fullmatch(text)
        if match:
            return template.format(**match.groupdict())
    return text


@lru_cache(maxsize=8)
def patterns(locale: str) -> list[tuple[re.Pattern[str], str]]:
    """Catalog entries with `{name}` placeholders, as regular expressions (longest first)."""
    out = []
    for msgid, msgstr in catalog(locale).items():
        if re.search(r"\{[a-z]+\}", msgid):
            regex = re.escape(msgid)
            regex = re.sub(r"\\\{([a-z]+)\\\}", r"(?P<\1>.+?)", regex)
            out.append((re.compile(regex), msgstr))
    return sorted(out, key=lambda item: -len(item[0].pattern))


def ngettext(singular: str, plural: str, n: int, locale: str | None = None) -> str:
    return gettext(singular if n == 1 else plural, locale)


_ = gettext


def format_krw(amount: int | None, locale: str | None = None) -> str:
    """12,345,000원 (ko) / ₩12,345,000 (en)."""
    if amount is None:
        return ""
    loc = locale or current_locale()
    number = format_decimal(amount, locale=loc)
    return f"{number}원" if loc == "ko" else f"₩{number}"


def format_krw_range(low: int | None, high: int | None, locale: str | None = None) -> str:
    """10,000,000–20,000,000원 (ko) / ₩10,000,000–₩20,000,000 (en): one unit for the range; a single
    amount when there is no lower bound or both bounds are equal."""
    if low is None or low == high:
        return format_krw(high, locale)
    loc = locale or current_locale()
    if loc == "ko":
        return f"{format_decimal(low, locale=loc)}–{format_krw(high, loc)}"
    return f"{format_krw(low, loc)}–{format_krw(high, loc)}"


def format_number(value: int | float, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or current_locale())


# Korean dates as the 행정업무의 운영 및 혁신에 관한 규정 (제7조) writes them: 2026. 12. 15.(화) and 24-hour
# 10:00; Babel's "short" Korean pattern gives 26. 12. 15. 오전 10:00 instead.
KO_DAY = "y. M. d.(E)"
KO_MOMENT = "y. M. d.(E) HH:mm"
# English keeps the four-digit year and the 24-hour clock too (Babel's "short" gives 12/15/26, 10:00 AM)
EN_MOMENT = "MMM d, y, HH:mm"


def format_day(value: date | str, locale: str | None = None) -> str:
    """2026. 12. 15.(화) (ko) / Dec 15, 2026 (en); an ISO date string (a fair day as stored) too."""
    loc = locale or current_locale()
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, format=KO_DAY if loc == "ko" else "medium", locale=loc)


def format_moment(value: datetime, tz: str = "Asia/Seoul", locale: str | None = None) -> str:
    """2026. 12. 15.(화) 10:00 (ko) / Dec 15, 2026, 10:00 (en), in `tz`."""
    loc = locale or current_locale()
    return format_datetime(value, format=KO_MOMENT if loc == "ko" else EN_MOMENT, tzinfo=_zone(tz), locale=loc)


def format_slot(value: datetime, end: datetime | None = None, tz: str = "Asia/Seoul", locale: str | None = None) -> str:
    """A slot's start, or its range with `end`: 12. 15.(화) 10:00–10:30 (ko) / 12-15 10:00–10:30 (en)."""
    loc = locale or current_locale()
    local = value.astimezone(_zone(tz))
    if loc == "ko":
        start = format_datetime(local, format="M. d.(E) HH:mm", tzinfo=_zone(tz), locale=loc)
        return start + (f"–{end.astimezone(_zone(tz)):%H:%M}" if end else "")
    return f"{local:%m-%d %H:%M}" + (f"–{end.astimezone(_zone(tz)):%H:%M}" if end else "")


def format_time_range(start: datetime, end: datetime, tz: str = "Asia/Seoul", locale: str | None = None) -> str:
    """10:00–10:30 in both languages (an en dash, as issue 14 asks for ranges)."""
    return f"{start.astimezone(_zone(tz)):%H:%M}–{end.astimezone(_zone(tz)):%H:%M}"


@lru_cache(maxsize=4)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)
