"""The second factor: time-based one-time codes (RFC 6238, 30 s, 6 digits) from an
authenticator app, enrolled by scanning a QR code drawn here as inline SVG."""

from __future__ import annotations

from datetime import datetime

import pyotp
import segno

from tulpar import clock
from tulpar.config import get_settings


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(length=32)


def enrolment_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/…`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=username, issuer_name=get_settings().staff_totp_issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element (no image file, no other host)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff"))


def verify(secret: str, code: str, *, at: datetime | None = None) -> bool:
    """Whether ``code`` is the current code, or the one just before or after (clock drift)."""
    digits = "".join(character for character in code if not character.isspace())
    if len(digits) != 6 or not digits.isdigit():
        return False
    return bool(pyotp.TOTP(secret).verify(digits, for_time=at or clock.now(), valid_window=1))
