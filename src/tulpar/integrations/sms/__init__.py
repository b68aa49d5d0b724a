"""Outgoing SMS: a provider Protocol and its adapters — ``outbox`` (development: the
notifications table is the outbox), ``smpp`` (SMPP 3.4, one bind per process) and ``http``
(the Twilio REST convention). ``TULPAR_SMS_PROVIDER`` chooses; production refuses ``outbox``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.config import Settings, get_settings
from tulpar.integrations.sms.http import HttpSmsConfig, HttpSmsProvider
from tulpar.integrations.sms.outbox import OutboxProvider
from tulpar.integrations.sms.protocol import (
    DeliveryReport,
    InboundSink,
    InboundSms,
    SmsMessage,
    SmsProvider,
    SmsProviderError,
    SmsReceipt,
)
from tulpar.integrations.sms.smpp import SmppConfig, SmppProvider

__all__ = [
    "DeliveryReport",
    "InboundSink",
    "InboundSms",
    "OutboxProvider",
    "SmsMessage",
    "SmsProvider",
    "SmsProviderError",
    "SmsProviderNotConfiguredError",
    "SmsReceipt",
    "close_providers",
    "get_provider",
    "inbound_url",
    "status_callback_url",
    "use_provider",
]

PROVIDERS = ("outbox", "smpp", "http")
STATUS_CALLBACK_PATH = "/v1/sms/twilio/status"
INBOUND_PATH = "/v1/sms/inbound"

_override: SmsProvider | None = None
# Network providers are kept for the life of the process: the SMPP bind, the HTTP pool.
_shared: dict[str, SmsProvider] = {}
_shared_lock = threading.Lock()


class SmsProviderNotConfiguredError(ValueError):
    """The chosen provider lacks settings, or is refused in this environment."""


def status_callback_url(settings: Settings | None = None) -> str:
    """The public URL the HTTP provider calls back with statuses (and signs)."""
    settings = settings or get_settings()
    return settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH


def inbound_url(settings: Settings | None = None) -> str:
    """The public URL the HTTP provider posts inbound texts to (and signs)."""
    settings = settings or get_settings()
    return settings.public_base_url.rstrip("/") + INBOUND_PATH


def get_provider(*, on_inbound: InboundSink | None = None) -> SmsProvider:
    """The provider named by ``TULPAR_SMS_PROVIDER``, or the one :func:`use_provider` set.
    ``on_inbound`` receives what an SMPP session is sent (delivery receipts, texts)."""
    if _override is not None:
        return _override
    settings = get_settings()
    name = settings.sms_provider
    if name == "outbox":
        if settings.environment == "production":
            raise SmsProviderNotConfiguredError("The outbox SMS provider is refused in production")
        return OutboxProvider()
    if name not in PROVIDERS:
        raise SmsProviderNotConfiguredError(
            f"Unknown SMS provider {name!r}; available: {', '.join(PROVIDERS)}"
        )
    with _shared_lock:
        provider = _shared.get(name)
        if provider is None:
            provider = _shared[name] = _build(name, settings)
    if isinstance(provider, SmppProvider) and on_inbound is not None:
        provider.on_inbound = on_inbound
    return provider


def _build(name: str, settings: Settings) -> SmsProvider:
    if name == "smpp":
        if not settings.sms_smpp_system_id:
            raise SmsProviderNotConfiguredError("Set TULPAR_SMS_SMPP_SYSTEM_ID (and _PASSWORD)")
        return SmppProvider(
            SmppConfig(
                host=settings.sms_smpp_host,
                port=settings.sms_smpp_port,
                system_id=settings.sms_smpp_system_id,
                password=settings.sms_smpp_password,
                system_type=settings.sms_smpp_system_type,
                sender=settings.sms_sender_id,
                window=settings.sms_smpp_window,
                rate_per_second=settings.sms_smpp_rate_per_second,
                submit_timeout_seconds=settings.sms_send_timeout_seconds,
                throttle_retries=settings.sms_smpp_throttle_retries,
                throttle_backoff_seconds=settings.sms_smpp_throttle_backoff_seconds,
            )
        )
    sid, token = settings.sms_http_account_sid, settings.sms_http_auth_token
    if not sid or not token:
        raise SmsProviderNotConfiguredError(
            "Set TULPAR_SMS_HTTP_ACCOUNT_SID and TULPAR_SMS_HTTP_AUTH_TOKEN"
        )
    return HttpSmsProvider(
        HttpSmsConfig(
            base_url=settings.sms_http_base_url,
            account_sid=sid,
            auth_token=token,
            sender=settings.sms_http_from or settings.sms_sender_id,
            status_callback_url=status_callback_url(settings),
            timeout_seconds=settings.sms_send_timeout_seconds,
        )
    )


def close_providers() -> None:
    """Close the shared providers (the SMPP bind unbinds); tests and shutdown."""
    with _shared_lock:
        providers = list(_shared.values())
        _shared.clear()
    for provider in providers:
        close = getattr(provider, "close", None)
        if close is not None:
            close()


@contextmanager
def use_provider(provider: SmsProvider) -> Iterator[SmsProvider]:
    """Send through ``provider`` inside the block (tests, benchmarks)."""
    global _override
    previous, _override = _override, provider
    try:
        yield provider
    finally:
        _override = previous
