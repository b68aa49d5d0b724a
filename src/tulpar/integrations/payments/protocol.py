"""What Tulpar needs from a payment provider. Adapters are the only code that talks to one;
every call carries our idempotency key and has a timeout."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class ProviderStatus(enum.StrEnum):
    pending = "pending"  # the payer has not finished (or the provider is still deciding)
    succeeded = "succeeded"
    failed = "failed"


class EventKind(enum.StrEnum):
    payment_processing = "payment_processing"
    payment_succeeded = "payment_succeeded"
    payment_failed = "payment_failed"
    refund_succeeded = "refund_succeeded"
    refund_failed = "refund_failed"
    ignored = "ignored"


class ProviderError(Exception):
    """The provider could not be reached or answered with an error; safe to retry later."""


class WebhookSignatureError(Exception):
    """A webhook whose signature is missing, malformed, stale or wrong."""


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    idempotency_key: str
    amount_minor: int
    currency: str
    description: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    reference: str
    status: ProviderStatus
    next_action: dict[str, Any] | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    idempotency_key: str
    payment_reference: str
    amount_minor: int
    currency: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """The provider's answer to a refund. ``pending``: accepted but not settled yet; the
    outcome arrives later as a ``refund_succeeded`` / ``refund_failed`` event."""

    reference: str
    succeeded: bool
    failure_message: str | None = None
    pending: bool = False


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A webhook, normalised. ``payment_reference`` and ``payment_key`` (our idempotency key,
    echoed in metadata) identify the payment attempt it is about; for refund events
    ``refund_reference`` (the provider's id) and ``refund_key`` (ours, echoed) the refund."""

    event_id: str
    kind: EventKind
    raw_type: str
    payment_reference: str | None = None
    payment_key: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    refund_reference: str | None = None
    refund_key: str | None = None


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        """Start collecting; calling again with the same idempotency key returns the same
        payment."""
        ...

    def get_payment(self, reference: str) -> ProviderPayment:
        """Where the payment stands now (used for payments stuck in an unknown state)."""
        ...

    def refund(self, request: RefundRequest) -> ProviderRefund:
        """Give a payment's money back; idempotent on the request's key."""
        ...

    def get_refund(self, reference: str) -> ProviderRefund:
        """Where a refund stands now (used for refunds left ``pending`` with no webhook)."""
        ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """The event if its signature is good; raises :class:`WebhookSignatureError`."""
        ...

    def interpret(self, payload: Mapping[str, Any]) -> ProviderEvent:
        """The normalised meaning of a (verified, stored) event."""
        ...
