"""How many SMS parts a text needs: GSM 03.38 7-bit (160 alone, 153 per concatenated part;
extension-table characters cost two septets) or UCS-2 (70 alone, 67 per part, counted in
UTF-16 code units, so an emoji costs two). An escape pair or a surrogate pair is never split
across parts. The count is the number of parts the SMPP adapter submits: both come from
:func:`tulpar.integrations.sms.encoding.split`."""

from __future__ import annotations

from dataclasses import dataclass

from tulpar.integrations.sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    PART_LIMIT,
    SINGLE_LIMIT,
    Encoding,
    is_gsm7,
    split,
)

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "PART_LIMIT",
    "SINGLE_LIMIT",
    "Encoding",
    "SegmentCount",
    "count_segments",
    "is_gsm7",
]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count_segments(text: str) -> SegmentCount:
    """The encoding an SMS centre will use for ``text`` and the number of parts it needs."""
    parts = split(text)
    return SegmentCount(encoding=parts.encoding, units=parts.units, segments=len(parts.parts))
