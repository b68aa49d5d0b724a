"""Webhook signatures the Stripe way: header ``t=<unix seconds>,v1=<hex>`` where
``v1 = HMAC-SHA256(secret, "<t>.<raw body>")``, accepted within 300 s."""

from __future__ import annotations

import hashlib
import hmac

from tulpar.integrations.payments.protocol import (
    WEBHOOK_TOLERANCE_SECONDS,
    WebhookSignatureError,
)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: bytes, *, now: float) -> None:
    """Raise :class:`WebhookSignatureError` unless ``header`` signs ``body`` in time."""
    if not header:
        raise WebhookSignatureError("missing signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookSignatureError("malformed signature")
    if abs(now - timestamp) > WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookSignatureError("stale signature")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookSignatureError("signature does not match")
