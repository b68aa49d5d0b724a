"""Stripe PaymentIntents. The SDK does the HTTP (with our idempotency key and a timeout);
webhooks are verified with ``stripe.Webhook.construct_event`` and the ``Stripe-Signature``
header."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import stripe

from tulpar.integrations import signature
from tulpar.integrations.payments.protocol import (
    EventKind,
    PaymentRequest,
    ProviderError,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundRequest,
    WebhookSignatureError,
)

SIGNATURE_HEADER = "stripe-signature"

_EVENT_KINDS = {
    "payment_intent.processing": EventKind.payment_processing,
    "payment_intent.succeeded": EventKind.payment_succeeded,
    "payment_intent.payment_failed": EventKind.payment_failed,
    "payment_intent.canceled": EventKind.payment_failed,
}
_FINAL_FAILURES = {"canceled"}
# Events whose object is a Refund (`charge.refund.updated` is the older name of
# `refund.updated`); `charge.refunded` carries a Charge with its refunds listed.
_REFUND_EVENTS = {"refund.updated", "refund.failed", "charge.refund.updated"}
_REFUND_UNSETTLED = {"pending", "requires_action"}
_REFUND_FAILURES = {"failed", "canceled"}


def _status(intent: Mapping[str, Any]) -> ProviderStatus:
    status = str(intent.get("status"))
    if status == "succeeded":
        return ProviderStatus.succeeded
    if status in _FINAL_FAILURES or intent.get("last_payment_error"):
        return ProviderStatus.failed
    return ProviderStatus.pending


def _payment(intent: Mapping[str, Any]) -> ProviderPayment:
    error = intent.get("last_payment_error") or {}
    secret = intent.get("client_secret")
    return ProviderPayment(
        reference=str(intent["id"]),
        status=_status(intent),
        next_action=None
        if secret is None
        else {"type": "stripe_client_secret", "client_secret": str(secret)},
        failure_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
    )


def _refund(refund: Mapping[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        reference=str(refund["id"]),
        succeeded=refund.get("status") == "succeeded",
        failure_message=refund.get("failure_reason"),
        pending=refund.get("status") in _REFUND_UNSETTLED,
    )


class StripeProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        timeout_seconds: float = 10.0,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            http_client=http_client
            or stripe.HTTPXClient(timeout=timeout_seconds, allow_sync_methods=True),
            max_network_retries=0,
        )

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        try:
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": request.amount_minor,
                    "currency": request.currency.lower(),
                    "description": request.description,
                    "metadata": {**request.metadata, "tulpar_key": request.idempotency_key},
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        return _payment(intent.to_dict())

    def get_payment(self, reference: str) -> ProviderPayment:
        try:
            intent = self._client.v1.payment_intents.retrieve(reference)
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        return _payment(intent.to_dict())

    def refund(self, request: RefundRequest) -> ProviderRefund:
        try:
            refund = self._client.v1.refunds.create(
                params={
                    "payment_intent": request.payment_reference,
                    "amount": request.amount_minor,
                    "metadata": {
                        "reason": request.reason[:500],
                        "tulpar_key": request.idempotency_key,
                    },
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            # Stripe refuses for good (e.g. already refunded): an answer, not an outage.
            return ProviderRefund(reference="", succeeded=False, failure_message=str(error))
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        return _refund(refund.to_dict())

    def get_refund(self, reference: str) -> ProviderRefund:
        try:
            refund = self._client.v1.refunds.retrieve(reference)
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        return _refund(refund.to_dict())

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        try:
            stripe.Webhook.construct_event(
                body,
                headers.get(SIGNATURE_HEADER),
                self._webhook_secret,
                tolerance=signature.TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise WebhookSignatureError(str(error)) from error
        payload: dict[str, Any] = json.loads(body)
        return payload

    def interpret(self, payload: Mapping[str, Any]) -> ProviderEvent:
        event_type = str(payload.get("type", ""))
        if event_type in _REFUND_EVENTS or event_type == "charge.refunded":
            return _refund_event(payload, event_type)
        kind = _EVENT_KINDS.get(event_type, EventKind.ignored)
        intent: Mapping[str, Any] = (payload.get("data") or {}).get("object") or {}
        error = intent.get("last_payment_error") or {}
        metadata = intent.get("metadata") or {}
        return ProviderEvent(
            event_id=str(payload["id"]),
            kind=kind,
            raw_type=event_type,
            payment_reference=None if kind is EventKind.ignored else intent.get("id"),
            payment_key=metadata.get("tulpar_key"),
            failure_code=error.get("decline_code") or error.get("code"),
            failure_message=error.get("message")
            or ("canceled" if event_type == "payment_intent.canceled" else None),
        )


def _refund_of(payload: Mapping[str, Any], event_type: str) -> Mapping[str, Any]:
    found: Mapping[str, Any] = (payload.get("data") or {}).get("object") or {}
    if event_type != "charge.refunded":
        return found
    # Newest first, and ours are one whole refund per payment. Without the list (recent API
    # versions leave it out) the refund's status is unknown: the event says nothing and
    # `refund.updated` will.
    listed = (found.get("refunds") or {}).get("data") or []
    return listed[0] if listed else {}


def _refund_event(payload: Mapping[str, Any], event_type: str) -> ProviderEvent:
    refund = _refund_of(payload, event_type)
    status = str(refund.get("status"))
    if event_type == "refund.failed" or status in _REFUND_FAILURES:
        kind = EventKind.refund_failed
    elif status == "succeeded":
        kind = EventKind.refund_succeeded
    else:
        kind = EventKind.ignored
    failure = refund.get("failure_reason")
    return ProviderEvent(
        event_id=str(payload["id"]),
        kind=kind,
        raw_type=event_type,
        payment_reference=refund.get("payment_intent"),
        refund_reference=refund.get("id"),
        refund_key=(refund.get("metadata") or {}).get("tulpar_key"),
        failure_code=failure,
        failure_message=None if kind is not EventKind.refund_failed else (failure or status),
    )
