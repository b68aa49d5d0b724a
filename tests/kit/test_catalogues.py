"""Every gettext catalogue under ``src/tulpar`` is complete: each message any catalogue of a
package has is translated, non-empty, in all four languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import tulpar
from tulpar.kit.languages import LANGUAGES, babel_locale

LOCALES_DIRS = sorted({path.parent for path in Path(tulpar.__file__).parent.rglob("locales/*.po")})


def _translations(po_file: Path, language: str) -> dict[str, str]:
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=babel_locale(language))
    return {str(message.id): str(message.string) for message in catalog if message.id}


def test_the_packages_with_catalogues_are_found() -> None:
    assert {path.parent.name for path in LOCALES_DIRS} >= {"notification", "receipt"}


@pytest.mark.parametrize("locales_dir", LOCALES_DIRS, ids=lambda path: path.parent.name)
def test_every_message_is_translated_in_every_language(locales_dir: Path) -> None:
    catalogues = {
        language: _translations(locales_dir / f"{language}.po", language)
        for language in LANGUAGES
        if (locales_dir / f"{language}.po").exists()
    }
    assert sorted(catalogues) == sorted(LANGUAGES), "a language has no catalogue"
    every_message = set().union(*catalogues.values())
    gaps = {
        language: sorted(message for message in every_message if not entries.get(message))
        for language, entries in catalogues.items()
    }
    assert gaps == {language: [] for language in LANGUAGES}
