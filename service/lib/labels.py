"""Display names kept as {code: (Korean, English)} tables."""

from __future__ import annotations


def pick_label(table: dict[str, tuple[str, str]], code: str, locale: str) -> str:
    """The name of `code` in the interface language; an unknown code is shown as itself."""
    names = table.get(code)
    if names is None:
        return code
    return names[0] if locale == "ko" else names[1]
