"""Money taken at a store's counter: ``cash`` in the till, or ``card_terminal`` (the store's
own card terminal, whose slip reference the clerk types in). The money is already collected
when the clerk confirms, so a payment succeeds at once; a refund is money handed back at the
store (cash) or reversed on the terminal, recorded as done. No webhooks: nothing calls us."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tulpar.integrations.payments.protocol import (
    EventKind,
    PaymentRequest,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundRequest,
    WebhookSignatureError,
)

COUNTER_PROVIDERS = ("cash", "card_terminal")


class CounterProvider:
    def __init__(self, name: str) -> None:
        if name not in COUNTER_PROVIDERS:
            raise ValueError(f"Not a counter payment method: {name!r}")
        self.name = name

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        # The terminal's slip reference when there is one; else our own key (cash).
        reference = request.metadata.get("terminal_reference") or request.idempotency_key
        return ProviderPayment(
            reference=f"{self.name}:{reference}", status=ProviderStatus.succeeded
        )

    def get_payment(self, reference: str) -> ProviderPayment:
        return ProviderPayment(reference=reference, status=ProviderStatus.succeeded)

    def refund(self, request: RefundRequest) -> ProviderRefund:
        how = "cash-back" if self.name == "cash" else "terminal-reversal"
        return ProviderRefund(reference=f"{how}:{request.idempotency_key}", succeeded=True)

    def get_refund(self, reference: str) -> ProviderRefund:
        return ProviderRefund(reference=reference, succeeded=True)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        raise WebhookSignatureError("Counter payments have no webhooks")

    def interpret(self, payload: Mapping[str, Any]) -> ProviderEvent:
        return ProviderEvent(event_id="", kind=EventKind.ignored, raw_type="counter")
