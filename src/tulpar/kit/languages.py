"""The languages travellers read, and how a request's language is chosen."""

from __future__ import annotations

LANGUAGES = ("zh-Hans", "ru", "kk", "en")
# Most travellers come from China, so a traveller who told us nothing reads Simplified Chinese.
DEFAULT_LANGUAGE = "zh-Hans"
# The choice a traveller made on a page, remembered by the browser.
LANGUAGE_COOKIE = "tulpar_lang"

# Tags that mean Simplified Chinese; Traditional (zh-Hant, zh-TW, zh-HK, zh-MO) does not match.
_SIMPLIFIED_CHINESE_REGIONS = ("cn", "sg", "my")


def babel_locale(language: str) -> str:
    """Our language tag (``zh-Hans``) as Babel spells a locale (``zh_Hans``)."""
    return language.replace("-", "_")


def supported(language: str | None) -> str:
    """``language`` when we have it, else the travellers' default."""
    return matching_language(language) or DEFAULT_LANGUAGE


def matching_language(tag: str | None) -> str | None:
    """The language of ours a BCP 47 tag asks for (``ru-RU`` → ``ru``, ``zh-CN`` →
    ``zh-Hans``), or ``None`` when we have none for it."""
    if not tag:
        return None
    subtags = tag.strip().replace("_", "-").lower().split("-")
    primary = subtags[0]
    if primary == "zh":
        rest = subtags[1:]
        if not rest or rest[0] == "hans" or rest[0] in _SIMPLIFIED_CHINESE_REGIONS:
            return "zh-Hans"
        return None
    return next((language for language in LANGUAGES if language == primary), None)


def resolve_language(
    explicit: str | None, remembered: str | None, accept_language: str | None
) -> str:
    """The language to answer in: the explicit choice (``?lang=``), else the remembered one
    (the ``tulpar_lang`` cookie), else the browser's ``Accept-Language`` by preference, else
    Simplified Chinese. A value we do not support is skipped, never an error."""
    for choice in (explicit, remembered):
        if (language := matching_language(choice)) is not None:
            return language
    for tag in accepted_tags(accept_language):
        if (language := matching_language(tag)) is not None:
            return language
    return DEFAULT_LANGUAGE


def accepted_tags(accept_language: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (RFC 9110 q-values; equal
    weights keep the header's order; ``q=0`` means "not this one"; malformed parts are
    skipped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        if not tag or tag == "*":
            continue
        weight = _weight(parameters)
        if weight is not None and weight > 0:
            weighted.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def _weight(parameters: list[str]) -> float | None:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                return None
            return weight if 0 <= weight <= 1 else None
    return 1.0
