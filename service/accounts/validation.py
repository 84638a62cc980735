"""Checks of what a user may set on their own account (shared by the API and the pages)."""

from __future__ import annotations

from service.accounts.passwords import MIN_LENGTH
from service.config import SUPPORTED_LOCALES
from service.lib.errors import FieldErrors
from service.registry.validation import EMAIL_RE, PHONE_RE

MAX_PASSWORD = 1024


def validate_new_password(password: str, errors: FieldErrors, field: str) -> None:
    if len(password) < MIN_LENGTH:
        errors.add(field, f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_PASSWORD:
        errors.add(field, "must be at most 1,024 characters")


def clean_name(name: str, errors: FieldErrors, field: str = "name") -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        errors.add(field, "must be 1 to 100 characters")
    return name


def clean_phone(phone: str | None, errors: FieldErrors, field: str = "phone") -> str | None:
    phone = (phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        errors.add(field, "not a phone number")
    return phone or None


def clean_locale(locale: str, errors: FieldErrors, field: str = "locale") -> str:
    if locale not in SUPPORTED_LOCALES:
        errors.add(field, f"must be one of {', '.join(SUPPORTED_LOCALES)}")
    return locale


def clean_email(email: str, errors: FieldErrors, field: str = "email") -> str:
    email = email.strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors.add(field, "not a valid email address")
    return email
