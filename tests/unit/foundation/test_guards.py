"""The caller guards (identity/deps.py): who they refuse, and the automatic OPTIONS they let through."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.connection import ASGIConnection

from service.identity.deps import signed_in, staff_only
from service.lib.errors import Forbidden, Unauthorized
from tests.factories_fairs import principal_for


def connection(method: str, user: Any = None) -> ASGIConnection[Any, Any, Any, Any]:
    return ASGIConnection(scope={"type": "http", "method": method, "user": user})  # type: ignore[typeddict-item]


class TestGuards:
    def test_anonymous_callers_are_refused_with_401(self) -> None:
        with pytest.raises(Unauthorized):
            staff_only(connection("GET"), None)  # type: ignore[arg-type]
        with pytest.raises(Unauthorized):
            signed_in(connection("POST"), None)  # type: ignore[arg-type]

    def test_options_only_lists_methods_so_anyone_may_ask(self) -> None:
        staff_only(connection("OPTIONS"), None)  # type: ignore[arg-type]
        signed_in(connection("OPTIONS"), None)  # type: ignore[arg-type]

    def test_a_signed_in_caller_who_is_not_staff_is_refused_with_403(self) -> None:
        firm = principal_for(uuid.uuid4(), "firm", uuid.uuid4())
        signed_in(connection("GET", firm), None)  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            staff_only(connection("GET", firm), None)  # type: ignore[arg-type]
