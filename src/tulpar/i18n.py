"""Language helpers. Gettext catalogues kept as ``.po`` files next to the code that uses them
(``<package>/locales/<language>.po``) and compiled in memory on first use — no build step."""

from __future__ import annotations

import gettext
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_currency_precision

from tulpar import clock
from tulpar.models import LANGUAGES

DEFAULT_LANGUAGE = "en"


def babel_locale(language: str) -> str:
    """Our language tag (``zh-Hans``) as Babel spells a locale (``zh_Hans``)."""
    return language.replace("-", "_")


def supported(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=64)
def translations(locales_dir: Path, language: str) -> gettext.NullTranslations:
    """The catalogue for ``language`` in ``locales_dir``; untranslated text stays English."""
    path = locales_dir / f"{supported(language)}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=babel_locale(supported(language)))
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def local_time(moment: datetime) -> str:
    """``2026-12-01 14:30 (UTC+5)``: a moment as Kazakhstan reads it, offset spelled out."""
    local = clock.to_local(moment)
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    suffix = f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{local:%Y-%m-%d %H:%M} (UTC{suffix})"


def money_text(amount_minor: int, currency: str, language: str, *, compact: bool = False) -> str:
    """``3 500,00 KZT`` — the ISO code rather than a symbol: ``₸`` would force UCS-2 in an
    otherwise Latin SMS and is missing from the PDF's CJK font. ``compact`` drops ``.00``."""
    exponent = get_currency_precision(currency)
    major = Decimal(amount_minor).scaleb(-exponent)
    whole = compact and amount_minor % 10**exponent == 0
    pattern = "#,##0" if whole or exponent == 0 else "#,##0." + "0" * exponent
    return f"{format_decimal(major, format=pattern, locale=babel_locale(language))} {currency}"
