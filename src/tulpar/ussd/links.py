"""Payment links: when the wallet cannot pay, USSD sends by SMS a short-lived link, signed
with HMAC-SHA256 under ``TULPAR_PAYMENT_LINK_SECRET``, that opens the checkout for one card
and one plan. The token carries everything (no table): card, plan, expiry, a nonce and the
signature; opening it twice reaches the same order (the nonce is its idempotency key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tulpar.config import get_settings
from tulpar.errors import TulparError
from tulpar.models import Channel, PaymentProviderName

# The SMS (template ``ussd_payment_link``) and the END screen say "15 minutes".
LINK_LIFETIME = timedelta(minutes=15)
LINK_PATH = "/pay/link/"
# How an opened link places its order (link_checkout), which the USSD quote prices the same.
CHECKOUT_CHANNEL = Channel.web
CHECKOUT_PROVIDER = PaymentProviderName.sandbox
_PURPOSE = b"tulpar-ussd-payment-link"
_SIGNATURE_BYTES = 12  # 96 bits: ample for a link that lives 15 minutes
_PLACEHOLDER_SECRETS = frozenset({"", "change-me-payment-link-secret", "change-me", "secret"})
_RELAXED_ENVIRONMENTS = frozenset({"development", "test"})


class PaymentLinkInvalidError(TulparError):
    status = 400
    code = "payment_link_invalid"
    title = "This payment link is not valid"


class PaymentLinkExpiredError(TulparError):
    status = 410
    code = "payment_link_expired"
    title = "This payment link has expired"

    def __init__(self, link: PaymentLink) -> None:
        super().__init__()
        self.link = link


class PaymentLinkNotConfiguredError(TulparError):
    status = 503
    code = "payment_link_not_configured"
    title = "Payment links are not configured"


@dataclass(frozen=True, slots=True)
class PaymentLink:
    card_id: int
    plan: str
    expires_at: datetime
    nonce: str


def issue(card_id: int, plan: str, *, now: datetime) -> tuple[str, PaymentLink]:
    """A new token (and what it says) for ``card_id`` and ``plan``, valid from ``now``."""
    expires_at = (now + LINK_LIFETIME).replace(microsecond=0)
    link = PaymentLink(card_id, plan, expires_at, secrets.token_urlsafe(6))
    expires = int(expires_at.timestamp())
    token = f"{card_id}.{expires:x}.{link.nonce}.{_signature(link)}.{plan}"
    return token, link


def url(token: str) -> str:
    return get_settings().public_base_url.rstrip("/") + LINK_PATH + token


def read(token: str, *, now: datetime) -> PaymentLink:
    """What a token says, once its signature holds. Raises :class:`PaymentLinkInvalidError`
    (forged, damaged) or :class:`PaymentLinkExpiredError` (genuine but too old)."""
    parts = token.split(".", 4)
    if len(parts) != 5 or len(token) > 200:
        raise PaymentLinkInvalidError()
    card, expires, nonce, signature, plan = parts
    try:
        link = PaymentLink(int(card), plan, datetime.fromtimestamp(int(expires, 16), tz=UTC), nonce)
    except (ValueError, OverflowError, OSError):
        raise PaymentLinkInvalidError() from None
    if not hmac.compare_digest(signature, _signature(link)):
        raise PaymentLinkInvalidError()
    if link.expires_at <= now:
        raise PaymentLinkExpiredError(link)
    return link


def _signature(link: PaymentLink) -> str:
    message = "\x00".join(
        [str(link.card_id), link.plan, str(int(link.expires_at.timestamp())), link.nonce]
    ).encode()
    digest = hmac.new(_secret(), _PURPOSE + b"\x00" + message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")


def _secret() -> bytes:
    settings = get_settings()
    secret = settings.payment_link_secret
    weak = secret in _PLACEHOLDER_SECRETS or len(secret) < 32
    if weak and settings.environment not in _RELAXED_ENVIRONMENTS:
        raise PaymentLinkNotConfiguredError(
            "Set TULPAR_PAYMENT_LINK_SECRET to a random value of at least 32 characters"
        )
    return secret.encode()
