"""`?page=1&page_size=50` → {items, total, page, page_size}."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

from service.lib.errors import ValidationFailed

T = TypeVar("T")
MAX_PAGE_SIZE = 200


class Page(msgspec.Struct, Generic[T], kw_only=True):
    items: list[T]
    total: int
    page: int
    page_size: int


def check_page(page: int, page_size: int) -> tuple[int, int]:
    """Validate and return (offset, limit)."""
    if page < 1:
        raise ValidationFailed.single("page", "must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.single("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    return (page - 1) * page_size, page_size
