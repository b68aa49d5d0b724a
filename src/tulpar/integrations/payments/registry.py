"""Which adapter serves which provider name. Tests swap an adapter with :func:`override`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.config import get_settings
from tulpar.errors import TulparError
from tulpar.integrations.payments.counter import COUNTER_PROVIDERS, CounterProvider
from tulpar.integrations.payments.protocol import PaymentProvider
from tulpar.integrations.payments.sandbox import WEBHOOK_PATH, SandboxProvider
from tulpar.integrations.payments.stripe import StripeProvider

_overrides: dict[str, PaymentProvider] = {}


class ProviderNotConfiguredError(TulparError):
    status = 503
    code = "payment_provider_unavailable"
    title = "This payment method is not available right now"


class ProviderNotOfferedError(TulparError):
    """Checkout with a provider this deployment cannot take payment with (the sandbox in
    production, Stripe without its keys). Refused before anything is written: retrying the
    same request cannot succeed, so it is the client's to change (422), not a 503."""

    status = 422
    code = "payment_provider_unavailable"
    title = "This payment method is not available"


# In the order they are offered; ``wallet`` (the card's own balance) needs no adapter.
PROVIDER_NAMES = ("wallet", "sandbox", "stripe")


def available_providers() -> tuple[str, ...]:
    """The providers that can take payment here, in the order they are offered."""
    return tuple(name for name in PROVIDER_NAMES if can_take_payment(name))


def can_take_payment(name: str) -> bool:
    if name in _overrides or name == "wallet":
        return True
    settings = get_settings()
    if name == "sandbox":
        return settings.sandbox_enabled
    if name == "stripe":
        return bool(settings.stripe_api_key and settings.stripe_webhook_secret)
    return False


def require_available(name: str) -> None:
    """Raise :class:`ProviderNotOfferedError` unless ``name`` can take payment here."""
    if not can_take_payment(name):
        offered = ", ".join(available_providers())
        raise ProviderNotOfferedError(
            f"Payment provider {name!r} is not available here; available: {offered}",
            available=list(available_providers()),
        )


def default_provider() -> str:
    """The provider an order names none of: the sandbox where it is on (outside production),
    else Stripe once configured. Raises :class:`ProviderNotOfferedError` when neither is."""
    for name in ("sandbox", "stripe"):
        if can_take_payment(name):
            return name
    raise ProviderNotOfferedError(
        "No payment provider is configured here; pay from the wallet",
        available=list(available_providers()),
    )


def sandbox_secret() -> str:
    settings = get_settings()
    if not settings.sandbox_enabled:
        raise ProviderNotOfferedError("The sandbox payment provider is off here")
    return settings.sandbox_webhook_secret


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
    if name in COUNTER_PROVIDERS:
        # Counter money (cash, card terminal): only store sales use it
        # (tulpar.fulfilment.store_sale); never offered to checkout (can_take_payment).
        return CounterProvider(name)
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
