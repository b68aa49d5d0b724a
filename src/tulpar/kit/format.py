"""The one formatter: how money, moments, data and durations read in SMS, pages and receipts.
Every channel asks :func:`formatter_for` so the same amount is the same text everywhere."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_decimal, get_currency_precision

from tulpar import clock
from tulpar.kit import durations
from tulpar.kit.i18n import CATALOGUE_FALLBACK
from tulpar.kit.languages import LANGUAGES, babel_locale

# How carriers sell data: 1 GB = 1024 MB = 1024² KB.
MB = 1024 * 1024
GB = 1024 * MB


@dataclass(frozen=True, slots=True)
class Formatter:
    """Display text for one language (one of :data:`LANGUAGES`)."""

    language: str

    def money(self, amount_minor: int, currency: str, *, compact: bool = False) -> str:
        """``5,900 KZT`` (en, zh-Hans), ``5 900 KZT`` (ru, kk); ``482.76 KZT`` when there are
        minor units, exact (decimal arithmetic). The ISO code, never a symbol: ``₸`` would force
        UCS-2 in an otherwise Latin SMS and is missing from the PDF's CJK font. ``compact``
        drops digit grouping (``5900 KZT``) where every character counts, as on USSD screens."""
        exponent = get_currency_precision(currency)
        major = Decimal(amount_minor).scaleb(-exponent)
        whole = exponent == 0 or amount_minor % 10**exponent == 0
        pattern = ("0" if compact else "#,##0") + ("" if whole else "." + "0" * exponent)
        return f"{format_decimal(major, format=pattern, locale=self._locale)} {currency}"

    def local_time(self, moment: datetime) -> str:
        """``2026-12-01 14:30 (UTC+5)`` in every language; see :func:`local_time`."""
        return local_time(moment)

    def local_date(self, moment: datetime) -> str:
        """``2026-12-01`` in every language; see :func:`local_date`."""
        return local_date(moment)

    def data(self, data_bytes: int) -> str:
        """``9.5 GB`` from 1 GB up (two decimals at most), else ``512 MB`` (one at most)."""
        if data_bytes >= GB:
            value, pattern, unit = Decimal(data_bytes) / GB, "#,##0.##", "GB"
        else:
            value, pattern, unit = Decimal(data_bytes) / MB, "#,##0.#", "MB"
        return f"{format_decimal(value, format=pattern, locale=self._locale)} {unit}"

    def minutes(self, voice_seconds: int) -> str:
        """Whole minutes left (``59 min``, ``59分钟``): a started minute is not yet usable."""
        return self._quantity("minute", voice_seconds // 60)

    def countdown(self, until: datetime, now: datetime) -> str:
        """Time left in the two largest units: ``1 day 4 h``, ``3 h 20 min``, ``5 min``;
        ``0 min`` once ``until`` has passed. A started minute counts, so it never says
        ``0 min`` while time is left."""
        left = max(0, math.ceil((until - now).total_seconds() / 60))
        days, rest = divmod(left, 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            units = [("day", days), ("hour", hours)]
        elif hours:
            units = [("hour", hours), ("minute", minutes)]
        else:
            units = [("minute", minutes)]
        (largest, count), *smaller = units
        shown = [self._quantity(largest, count)]
        shown += [self._quantity(unit, count) for unit, count in smaller if count]
        return durations.joined(self.language, shown)

    @property
    def _locale(self) -> str:
        return babel_locale(self.language)

    def _quantity(self, unit: str, count: int) -> str:
        shown = format_decimal(count, format="#,##0", locale=self._locale)
        return durations.quantity(self.language, unit, count, shown)


def local_time(moment: datetime) -> str:
    """``2026-12-01 14:30 (UTC+5)``: a moment as Kazakhstan reads it, offset spelled out so a
    traveller whose phone still shows Beijing time is not misled. Digits read the same in all
    our languages, so there is one form."""
    local = clock.to_local(moment)
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    suffix = f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{local:%Y-%m-%d %H:%M} (UTC{suffix})"


def local_date(moment: datetime) -> str:
    """``2026-12-01``: the Kazakhstan calendar day of a moment."""
    return f"{clock.to_local(moment):%Y-%m-%d}"


@lru_cache(maxsize=len(LANGUAGES) + 1)
def formatter_for(language: str) -> Formatter:
    """The formatter of ``language``; a language we lack reads like its text, in English."""
    return Formatter(language if language in LANGUAGES else CATALOGUE_FALLBACK)


# Operator tools (the CLI) read English; these are the same rules, not a second copy.
format_data = formatter_for("en").data
format_minutes = formatter_for("en").minutes
format_money = formatter_for("en").money
