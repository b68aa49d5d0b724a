"""How many SMS parts a text needs: GSM 03.38 7-bit (160 alone, 153 per concatenated part;
extension-table characters cost two septets) or UCS-2 (70 alone, 67 per part, counted in
UTF-16 code units). An escape pair or a surrogate pair is never split across parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set (the default alphabet), in table order.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: sent as ESC + character, so each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["gsm7", "ucs2"]

SINGLE_LIMIT: dict[Encoding, int] = {"gsm7": 160, "ucs2": 70}
PART_LIMIT: dict[Encoding, int] = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM-7 default alphabet or its extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "gsm7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def count_segments(text: str) -> SegmentCount:
    """The encoding an SMS centre will use for ``text`` and the number of parts it needs."""
    encoding: Encoding = "gsm7" if is_gsm7(text) else "ucs2"
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    if units <= SINGLE_LIMIT[encoding]:
        return SegmentCount(encoding=encoding, units=units, segments=1)
    limit = PART_LIMIT[encoding]
    segments, used = 1, 0
    for cost in costs:
        if used + cost > limit:
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(encoding=encoding, units=units, segments=segments)
