"""Page links of an HTML list: 50 a page, the list's filters kept in every link's query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

PER_PAGE = 50
WINDOW = 2  # pages linked on each side of the current one


def page_number(raw: str | None) -> int:
    """`?page=` as a page number; anything that is not a positive number is page 1."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@dataclass(frozen=True)
class Pager:
    page: int
    total: int
    filters: Mapping[str, str] = field(default_factory=dict)
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_shown(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last_shown(self) -> int:
        return min(self.offset + self.per_page, self.total)

    def url(self, page: int) -> str:
        """The query string of `page` with the filters (empty ones dropped)."""
        params = {k: v for k, v in self.filters.items() if v}
        if page > 1:
            params["page"] = str(page)
        return "?" + urlencode(params) if params else "?"

    def url_with(self, **changes: str) -> str:
        """The query string of page 1 with some filters changed ("" drops one): a link that narrows
        or widens the list."""
        params = {k: v for k, v in {**self.filters, **changes}.items() if v}
        return "?" + urlencode(params) if params else "?"

    def numbers(self) -> list[int]:
        """The page numbers to link: the first, the last and a window around the current one."""
        near = range(max(1, self.page - WINDOW), min(self.pages, self.page + WINDOW) + 1)
        return sorted({1, self.pages, *near})

    def with_total(self, total: int) -> Pager:
        return Pager(self.page, total, self.filters, self.per_page)
