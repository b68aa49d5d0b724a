"""Outgoing SMS: a provider Protocol and its adapters (``outbox`` for development)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.config import get_settings
from tulpar.integrations.sms.outbox import OutboxProvider
from tulpar.integrations.sms.protocol import SmsMessage, SmsProvider, SmsProviderError, SmsReceipt

__all__ = [
    "OutboxProvider",
    "SmsMessage",
    "SmsProvider",
    "SmsProviderError",
    "SmsReceipt",
    "get_provider",
    "use_provider",
]

_override: SmsProvider | None = None


def get_provider() -> SmsProvider:
    """The provider named by ``TULPAR_SMS_PROVIDER``, or the one :func:`use_provider` set."""
    if _override is not None:
        return _override
    name = get_settings().sms_provider
    if name == "outbox":
        return OutboxProvider()
    raise ValueError(f"Unknown SMS provider {name!r}; available: outbox")


@contextmanager
def use_provider(provider: SmsProvider) -> Iterator[SmsProvider]:
    """Send through ``provider`` inside the block (tests, benchmarks)."""
    global _override
    previous, _override = _override, provider
    try:
        yield provider
    finally:
        _override = previous
