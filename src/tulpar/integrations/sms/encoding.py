"""How a text travels as SMS: the GSM 03.38 7-bit alphabet (with its extension table, each
extension character an ESC pair of two septets) or UCS-2 (UTF-16 code units, so an emoji is
two), and how a long text is cut into concatenated parts — by septets or code units, never by
Python characters, and never between an ESC pair or a surrogate pair.

This is the one place that knows it: segment counting (the notification domain) and the
parts an SMPP session submits come from the same cut, so the count stored with a message is
the number of parts that leave."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

ESCAPE = 0x1B
# GSM 03.38 default alphabet, indexed by septet value; 0x1B is the escape to the extension table.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128
_BASIC_SEPTET = {char: value for value, char in enumerate(_BASIC_TABLE) if value != ESCAPE}
_EXTENSION_SEPTET = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_BASIC_CHAR = {value: char for char, value in _BASIC_SEPTET.items()}
_EXTENSION_CHAR = {value: char for char, value in _EXTENSION_SEPTET.items()}

GSM7_BASIC = frozenset(_BASIC_SEPTET)
GSM7_EXTENSION = frozenset(_EXTENSION_SEPTET)

# What one message holds alone, and each part of a concatenated one (the rest of the 140
# octets is the 6-octet concatenation header).
SINGLE_LIMIT: dict[Encoding, int] = {"gsm7": 160, "ucs2": 70}
PART_LIMIT: dict[Encoding, int] = {"gsm7": 153, "ucs2": 67}
DATA_CODING: dict[Encoding, int] = {"gsm7": 0x00, "ucs2": 0x08}


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 default alphabet or its extension table."""
    return all(char in _BASIC_SEPTET or char in _EXTENSION_SEPTET for char in text)


def encoding_for(text: str) -> Encoding:
    """GSM-7 when the whole text fits it; one other character makes all of it UCS-2."""
    return "gsm7" if is_gsm7(text) else "ucs2"


def unit_cost(char: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if encoding == "gsm7":
        return 2 if char in _EXTENSION_SEPTET else 1
    return 2 if ord(char) > 0xFFFF else 1


@dataclass(frozen=True, slots=True)
class Split:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    parts: tuple[str, ...]  # the text of each part, in order


def split(text: str) -> Split:
    """The encoding ``text`` needs and the parts it is sent as: one when it fits alone
    (160 septets / 70 units), else parts of at most 153 septets / 67 units. A character is
    never cut, so an ESC pair or a surrogate pair moves whole to the next part."""
    encoding = encoding_for(text)
    costs = [unit_cost(char, encoding) for char in text]
    units = sum(costs)
    if units <= SINGLE_LIMIT[encoding]:
        return Split(encoding=encoding, units=units, parts=(text,))
    limit = PART_LIMIT[encoding]
    parts: list[str] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        if used + cost > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return Split(encoding=encoding, units=units, parts=tuple(parts))


def encode(text: str, encoding: Encoding) -> bytes:
    """The octets of ``text`` for SMPP ``short_message``: GSM-7 unpacked, one septet per
    octet (the SMSC packs them for the air), extension characters as ESC + value; UCS-2 as
    big-endian UTF-16."""
    if encoding == "ucs2":
        return text.encode("utf-16-be")
    octets = bytearray()
    for char in text:
        if char in _EXTENSION_SEPTET:
            octets += bytes((ESCAPE, _EXTENSION_SEPTET[char]))
        else:
            octets.append(_BASIC_SEPTET[char])
    return bytes(octets)


def decode(octets: bytes, data_coding: int) -> str:
    """Text from ``short_message`` octets: UCS-2 for ``data_coding`` 8, else unpacked GSM-7
    (an unknown septet reads as ``?``; Latin-1 for ``data_coding`` 3)."""
    if data_coding == DATA_CODING["ucs2"]:
        return octets.decode("utf-16-be", errors="replace")
    if data_coding == 0x03:
        return octets.decode("latin-1")
    chars: list[str] = []
    escaped = False
    for octet in octets:
        if escaped:
            chars.append(_EXTENSION_CHAR.get(octet, "?"))
            escaped = False
        elif octet == ESCAPE:
            escaped = True
        else:
            chars.append(_BASIC_CHAR.get(octet & 0x7F, "?"))
    return "".join(chars)


def concatenation_header(reference: int, total: int, sequence: int) -> bytes:
    """The 6-octet user data header of one part (IEI 0x00: 8-bit reference number)."""
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, sequence))


@dataclass(frozen=True, slots=True)
class Concatenation:
    reference: int
    total: int
    sequence: int


def parse_user_data(octets: bytes) -> tuple[Concatenation | None, bytes]:
    """Split a ``short_message`` sent with the UDHI flag into its concatenation information
    (8- or 16-bit reference) and the payload after the header."""
    if not octets:
        return None, octets
    header_length = octets[0]
    header, payload = octets[1 : 1 + header_length], octets[1 + header_length :]
    index = 0
    while index + 2 <= len(header):
        element, length = header[index], header[index + 1]
        data = header[index + 2 : index + 2 + length]
        if element == 0x00 and length == 3:
            return Concatenation(data[0], data[1], data[2]), payload
        if element == 0x08 and length == 4:
            return Concatenation((data[0] << 8) | data[1], data[2], data[3]), payload
        index += 2 + length
    return None, payload
