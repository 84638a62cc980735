"""Translations from Babel .po catalogs (service/i18n/<locale>/*.po) and locale-aware formatting.

Source strings are English; Korean is the default interface language. Every domain keeps
its own catalog file so that they never collide; all files of a locale are merged.
"""

from __future__ import annotations

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
    return catalog(locale or current_locale()).get(message, message)


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


def format_number(value: int | float, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or current_locale())


# Korean dates as the 행정업무의 운영 및 혁신에 관한 규정 (제7조) writes them: 2026. 12. 15.(화) and 24-hour
# 10:00; Babel's "short" Korean pattern gives 26. 12. 15. 오전 10:00 instead.
KO_DAY = "y. M. d.(E)"
KO_MOMENT = "y. M. d.(E) HH:mm"


def format_day(value: date, locale: str | None = None) -> str:
    """2026. 12. 15.(화) (ko) / Dec 15, 2026 (en)."""
    loc = locale or current_locale()
    return format_date(value, format=KO_DAY if loc == "ko" else "medium", locale=loc)


def format_moment(value: datetime, tz: str = "Asia/Seoul", locale: str | None = None) -> str:
    """2026. 12. 15.(화) 10:00 (ko) / 12/15/26, 10:00 AM (en), in `tz`."""
    loc = locale or current_locale()
    return format_datetime(value, format=KO_MOMENT if loc == "ko" else "short", tzinfo=_zone(tz), locale=loc)


def format_slot(value: datetime, end: datetime | None = None, tz: str = "Asia/Seoul", locale: str | None = None) -> str:
    """A slot's start, or its range with `end`: 12. 15.(화) 10:00~10:30 (ko) / 12-15 10:00–10:30 (en)."""
    loc = locale or current_locale()
    local = value.astimezone(_zone(tz))
    if loc == "ko":
        start = format_datetime(local, format="M. d.(E) HH:mm", tzinfo=_zone(tz), locale=loc)
        return start + (f"~{end.astimezone(_zone(tz)):%H:%M}" if end else "")
    return f"{local:%m-%d %H:%M}" + (f"–{end.astimezone(_zone(tz)):%H:%M}" if end else "")


def format_time_range(start: datetime, end: datetime, tz: str = "Asia/Seoul", locale: str | None = None) -> str:
    """10:00~10:30 (ko) / 10:00–10:30 (en)."""
    dash = "~" if (locale or current_locale()) == "ko" else "–"
    return f"{start.astimezone(_zone(tz)):%H:%M}{dash}{end.astimezone(_zone(tz)):%H:%M}"


@lru_cache(maxsize=4)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)
