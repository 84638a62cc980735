"""What a timed job is: an id, the coroutine that does the work, and how often it runs by default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings

JobFunc = Callable[[async_sessionmaker[AsyncSession], Settings], Awaitable[Any]]


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: JobFunc
    seconds: int
