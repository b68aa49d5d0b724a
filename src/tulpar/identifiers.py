"""Card identifiers, parsed and validated once at the edge and trusted after."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from tulpar.errors import (
    InvalidActivationCodeError,
    InvalidCardReferenceError,
    InvalidEidError,
    InvalidIccidError,
    InvalidMsisdnError,
)

KAZAKHSTAN_ICCID_COUNTRY_CODE = "997"
_SEPARATORS = re.compile(r"[\s\-]")


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit that makes ``payload + digit`` valid."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def _luhn_valid(digits: str) -> bool:
    return luhn_check_digit(digits[:-1]) == digits[-1]


@dataclass(frozen=True, slots=True)
class Iccid:
    """An eSIM's ICCID: 18–20 digits, ``89`` prefix, Luhn check digit; a trailing ``F`` pad
    (as read from the SIM) is stripped."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Iccid:
        text = _SEPARATORS.sub("", str(raw)).upper()
        if text.endswith("F"):
            text = text[:-1]
        if not text.isdigit() or not text.isascii():
            raise InvalidIccidError("An ICCID contains only digits")
        if not 18 <= len(text) <= 20:
            raise InvalidIccidError("An ICCID has 18 to 20 digits")
        if not text.startswith("89"):
            raise InvalidIccidError("An ICCID starts with 89")
        if not _luhn_valid(text):
            raise InvalidIccidError("The ICCID check digit is wrong; please check the number")
        return cls(text)

    @property
    def is_kazakh(self) -> bool:
        return self.value[2:5] == KAZAKHSTAN_ICCID_COUNTRY_CODE

    def masked(self) -> str:
        return f"{self.value[:6]}…{self.value[-4:]}"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Eid:
    """An eUICC identifier: 32 digits, ISO 7064 mod 97-10 (``int(eid) % 97 == 1``)."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Eid:
        text = _SEPARATORS.sub("", str(raw))
        if len(text) != 32 or not text.isdigit() or not text.isascii():
            raise InvalidEidError("An EID has exactly 32 digits")
        if int(text) % 97 != 1:
            raise InvalidEidError("The EID check digits are wrong")
        return cls(text)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Msisdn:
    """A phone number in E.164 form. National Kazakh input (``8 701 …``) is accepted."""

    value: str

    default_region = "KZ"

    @classmethod
    def parse(cls, raw: str) -> Msisdn:
        text = str(raw).strip()
        if not text or len(text) > 32:
            raise InvalidMsisdnError("Enter a phone number such as +7 701 123 4567")
        try:
            number = phonenumbers.parse(text, cls.default_region)
        except phonenumbers.NumberParseException as error:
            raise InvalidMsisdnError("Enter a phone number such as +7 701 123 4567") from error
        if not phonenumbers.is_valid_number(number):
            raise InvalidMsisdnError("This is not a valid phone number")
        return cls(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))

    def masked(self) -> str:
        return f"{self.value[:5]}•••{self.value[-3:]}"

    def __str__(self) -> str:
        return self.value


_ACTIVATION_CODE = re.compile(
    r"^LPA:1\$(?P<address>[A-Za-z0-9.\-]+(?::\d{1,5})?)\$(?P<matching_id>[A-Za-z0-9\-]*)"
    r"(?:\$(?P<oid>[0-9.]+)?(?:\$(?P<confirmation>1))?)?$"
)


@dataclass(frozen=True, slots=True)
class ActivationCode:
    """GSMA SGP.22 activation code ``LPA:1$<SM-DP+ address>$<matching id>[$<OID>[$1]]``."""

    smdp_address: str
    matching_id: str
    oid: str | None = None
    confirmation_code_required: bool = False

    @classmethod
    def parse(cls, raw: str) -> ActivationCode:
        match = _ACTIVATION_CODE.match(str(raw).strip())
        if match is None or "." not in match["address"]:
            raise InvalidActivationCodeError(
                "An activation code looks like LPA:1$smdp.example.com$MATCHING-ID"
            )
        return cls(
            smdp_address=match["address"],
            matching_id=match["matching_id"],
            oid=match["oid"] or None,
            confirmation_code_required=match["confirmation"] == "1",
        )

    def __str__(self) -> str:
        text = f"LPA:1${self.smdp_address}${self.matching_id}"
        if self.oid or self.confirmation_code_required:
            text += f"${self.oid or ''}"
        if self.confirmation_code_required:
            text += "$1"
        return text


CardReference = Iccid | Msisdn


def parse_card_reference(raw: str) -> CardReference:
    """An ICCID or a phone number, as a traveller, clerk or partner types it."""
    text = _SEPARATORS.sub("", str(raw)).upper()
    if text.startswith("89") and 18 <= len(text.rstrip("F")) <= 20:
        return Iccid.parse(text)
    try:
        return Msisdn.parse(raw)
    except InvalidMsisdnError as error:
        raise InvalidCardReferenceError(
            "Enter the card's ICCID (starts with 89) or its phone number"
        ) from error
