"""The ``Tulpar-Signature`` header of a webhook, on the one signature scheme of
:mod:`tulpar.integrations.signature` (``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``,
300 s tolerance). During a secret rotation the header carries one ``v1`` per live secret, so
a receiver that still knows only the old secret keeps verifying (as Stripe does)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tulpar.integrations import signature
from tulpar.integrations.signature import TOLERANCE_SECONDS, SignatureError

HEADER = "Tulpar-Signature"
__all__ = ["HEADER", "TOLERANCE_SECONDS", "SignatureError", "sign", "verify_event"]


def sign(secrets: Sequence[str], body: bytes, *, timestamp: int) -> str:
    """The header value: ``t=…`` then a ``v1=…`` per secret (newest first)."""
    if not secrets:
        raise ValueError("at least one secret signs")
    signatures = [signature.sign(secret, body, timestamp=timestamp) for secret in secrets]
    return ",".join([f"t={timestamp}", *(value.split(",", 1)[1] for value in signatures)])


def verify_event(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> dict[str, Any]:
    """What a partner's receiver runs: the event (parsed JSON) if ``header`` signs ``body``
    with ``secret`` within the tolerance; :class:`SignatureError` otherwise. Verify the raw
    body as received, before parsing it; then dedupe on the event's ``id``."""
    signature.verify(secret, header, body, now=now, tolerance_seconds=tolerance_seconds)
    event: dict[str, Any] = json.loads(body)
    return event
