"""OTP refusals. Their wording never depends on whether the card exists."""

from __future__ import annotations

from tulpar.errors import TulparError


class OtpNotConfiguredError(RuntimeError):
    """The OTP secret is a placeholder outside development/test."""


class OtpRejectedError(TulparError):
    """A refusal that counted an attempt: the request's transaction is still committed."""

    status = 400
    code = "otp_invalid"
    title = "The code is wrong or has expired"


class OtpLockedError(TulparError):
    status = 429
    code = "otp_locked"
    title = "Too many wrong codes"


class OtpResendTooSoonError(TulparError):
    status = 429
    code = "otp_resend_too_soon"
    title = "A code was sent moments ago"


class OtpRateLimitedError(TulparError):
    status = 429
    code = "otp_rate_limited"
    title = "Too many codes requested"
