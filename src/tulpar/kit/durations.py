"""How each language writes a count of days, hours and minutes. A table of our own because
Babel's unit data has no long "day" for kk and zh-Hans; plural categories come from CLDR."""

from __future__ import annotations

from babel import Locale

from tulpar.kit.languages import babel_locale

# unit → CLDR plural category → pattern; "other" is always present.
_UNITS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "day": {"one": "{n} day", "other": "{n} days"},
        "hour": {"other": "{n} h"},
        "minute": {"other": "{n} min"},
    },
    "ru": {
        "day": {"one": "{n} день", "few": "{n} дня", "many": "{n} дней", "other": "{n} дня"},
        "hour": {"other": "{n} ч"},
        "minute": {"other": "{n} мин"},
    },
    # Kazakh nouns stay singular after a numeral.
    "kk": {
        "day": {"other": "{n} күн"},
        "hour": {"other": "{n} сағ"},
        "minute": {"other": "{n} мин"},
    },
    "zh-Hans": {
        "day": {"other": "{n}天"},
        "hour": {"other": "{n}小时"},
        "minute": {"other": "{n}分钟"},
    },
}
# Chinese writes units against each other: 1天4小时.
_SEPARATOR = {"zh-Hans": ""}


def quantity(language: str, unit: str, count: int, shown: str) -> str:
    """``count`` of ``unit`` (``day``, ``hour``, ``minute``) in ``language``; ``shown`` is the
    count already in the locale's number format."""
    forms = _UNITS[language][unit]
    category = Locale.parse(babel_locale(language)).plural_form(count)
    return forms.get(category, forms["other"]).format(n=shown)


def joined(language: str, parts: list[str]) -> str:
    return _SEPARATOR.get(language, " ").join(parts)
