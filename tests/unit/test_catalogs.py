"""Every `service/i18n/<locale>/*.po` is loaded into one catalog per language, so a message id translated
in two files two ways would show whichever file loads last: the address-confirmation page's 확인 button
once read 확정 because the consultations' catalog also translated "Confirm". One translation per id."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

I18N = Path(__file__).resolve().parents[2] / "service" / "i18n"


@pytest.mark.parametrize("locale", sorted(p.name for p in I18N.iterdir() if p.is_dir()))
def test_a_message_id_has_one_translation_across_the_catalogs(locale: str) -> None:
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted((I18N / locale).glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if not (message.id and message.string and isinstance(message.id, str)):
                    continue
                text = str(message.string)
                first = seen.setdefault(message.id, (path.name, text))
                if first[1] != text:
                    clashes.append(f"{message.id!r}: {first[0]} {first[1]!r} vs {path.name} {text!r}")
    assert not clashes, "give the messages distinct ids, or keep one translation:\n" + "\n".join(clashes)
