"""Size bounds every request schema shares (the API's rule: lists in bodies hold at most 1,000 items
unless a route says otherwise, answered 422 beyond). Without them one call could carry 50,000
ids into a single statement and hit asyncpg's 32,767-parameter limit (a 503)."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec

MAX_LIST_ITEMS = 1000
MAX_MAP_ITEMS = 1000

T = TypeVar("T")
V = TypeVar("V")

# `BoundedList[str]`: a JSON array of at most MAX_LIST_ITEMS items (422 naming the field beyond).
BoundedList = Annotated[list[T], msgspec.Meta(max_length=MAX_LIST_ITEMS)]
# `BoundedMap[float]`: a JSON object with string keys and at most MAX_MAP_ITEMS entries.
BoundedMap = Annotated[dict[str, V], msgspec.Meta(max_length=MAX_MAP_ITEMS)]
