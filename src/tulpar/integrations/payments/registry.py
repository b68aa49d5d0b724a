"""Which adapter serves which provider name. Tests swap an adapter with :func:`override`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.config import get_settings
from tulpar.errors import TulparError
from tulpar.integrations.payments.protocol import PaymentProvider
from tulpar.integrations.payments.sandbox import WEBHOOK_PATH, SandboxProvider
from tulpar.integrations.payments.stripe import StripeProvider

_PLACEHOLDER_PREFIX = "change-me"
_overrides: dict[str, PaymentProvider] = {}


class ProviderNotConfiguredError(TulparError):
    status = 503
    code = "payment_provider_unavailable"
    title = "This payment method is not available right now"


def sandbox_secret() -> str:
    settings = get_settings()
    secret = settings.sandbox_webhook_secret
    if secret.startswith(_PLACEHOLDER_PREFIX) and settings.environment == "production":
        raise ProviderNotConfiguredError("Set TULPAR_SANDBOX_WEBHOOK_SECRET in production")
    return secret


def sandbox_webhook_url() -> str:
    settings = get_settings()
    return settings.sandbox_webhook_url or settings.public_base_url.rstrip("/") + WEBHOOK_PATH


def provider_for(name: str) -> PaymentProvider:
    """The adapter for ``sandbox`` or ``stripe`` (``wallet`` needs none)."""
    if name in _overrides:
        return _overrides[name]
    settings = get_settings()
    if name == "sandbox":
        return SandboxProvider(base_url=settings.public_base_url, webhook_secret=sandbox_secret())
    if name == "stripe":
        if not settings.stripe_api_key or not settings.stripe_webhook_secret:
            raise ProviderNotConfiguredError("Stripe is not configured")
        return StripeProvider(
            api_key=settings.stripe_api_key,
            webhook_secret=settings.stripe_webhook_secret,
            timeout_seconds=settings.stripe_timeout_seconds,
        )
    raise ProviderNotConfiguredError(f"No payment provider {name!r}")


@contextmanager
def override(name: str, provider: PaymentProvider) -> Iterator[None]:
    previous = _overrides.get(name)
    _overrides[name] = provider
    try:
        yield
    finally:
        if previous is None:
            _overrides.pop(name, None)
        else:
            _overrides[name] = previous
