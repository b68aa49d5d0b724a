"""Gettext catalogues kept as ``.po`` files next to the code that uses them
(``<package>/locales/<language>.po``) and compiled in memory on first use — no build step."""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tulpar.kit.languages import LANGUAGES, babel_locale

# Message ids are English, so a language we lack falls back to the English catalogue (whose
# entries may differ from the ids, e.g. ``payment:wallet`` → ``Wallet``).
CATALOGUE_FALLBACK = "en"


@lru_cache(maxsize=64)
def translations(locales_dir: Path, language: str) -> gettext.NullTranslations:
    """The catalogue for ``language`` in ``locales_dir``; untranslated text stays English."""
    chosen = language if language in LANGUAGES else CATALOGUE_FALLBACK
    path = locales_dir / f"{chosen}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=babel_locale(chosen))
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
