"""Payment providers' webhooks: verified here and stored in the inbox (unique on provider
and event id, so replays change nothing); when the inbox job hands one back,
:func:`apply_event` records what it says about a payment or a refund and reports it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tulpar.errors import TulparError
from tulpar.inbox import service as inbox_service
from tulpar.integrations.payments.protocol import (
    EventKind,
    ProviderEvent,
    ProviderPayment,
    ProviderStatus,
    WebhookSignatureError,
)
from tulpar.integrations.payments.registry import provider_for
from tulpar.models import Payment
from tulpar.payment import refunds
from tulpar.payment import service as payment_service
from tulpar.payment.refunds import RefundReport
from tulpar.payment.service import PaymentReport

WEBHOOK_PROVIDERS = ("sandbox", "stripe")

_STATUS_OF = {
    EventKind.payment_succeeded: ProviderStatus.succeeded,
    EventKind.payment_failed: ProviderStatus.failed,
    EventKind.payment_processing: ProviderStatus.pending,
}
_REFUND_OUTCOMES = {EventKind.refund_succeeded, EventKind.refund_failed}
# A payment still processing moves nothing: only its final word (or, failing that, the
# requery of a payment not heard of for a while) settles it.
_SETTLES_NOTHING = {EventKind.payment_processing, EventKind.ignored}


class WebhookRejectedError(TulparError):
    status = 400
    code = "webhook_rejected"
    title = "Webhook signature verification failed"


def receive(session: Session, provider_name: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Verify and store one webhook; returns False for one already stored (a replay)."""
    provider = provider_for(provider_name)
    try:
        payload = provider.verify_webhook(body, headers)
        event = provider.interpret(payload)
    except WebhookSignatureError as error:
        raise WebhookRejectedError(str(error)) from error
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise WebhookRejectedError("The event is not in the provider's format") from error
    return inbox_service.store(
        session,
        inbox_service.Arrival(
            source=provider_name,
            external_id=event.event_id,
            kind=event.raw_type,
            payload=payload,
            settles_nothing=f"ignored: {event.raw_type}"
            if event.kind in _SETTLES_NOTHING
            else None,
        ),
    )


def apply_event(
    session: Session, provider_name: str, payload: dict[str, Any]
) -> PaymentReport | RefundReport | str:
    """What one stored event says: a report about a payment or a refund, or why it changed
    nothing."""
    return _apply(session, provider_name, provider_for(provider_name).interpret(payload))


def _apply(
    session: Session, provider_name: str, event: ProviderEvent
) -> PaymentReport | RefundReport | str:
    if event.kind in _REFUND_OUTCOMES:
        return _apply_refund(session, provider_name, event)
    status = _STATUS_OF.get(event.kind)
    if status is None:
        return f"ignored: {event.raw_type}"
    payment = _payment_of(session, provider_name, event)
    if payment is None:
        return "ignored: no such payment"
    return payment_service.apply_status(
        session,
        payment.id,
        ProviderPayment(
            reference=event.payment_reference or "",
            status=status,
            failure_code=event.failure_code,
            failure_message=event.failure_message,
        ),
        source="webhook",
    )


def _apply_refund(session: Session, provider_name: str, event: ProviderEvent) -> RefundReport | str:
    refund_row = refunds.refund_for_event(
        session,
        provider_name,
        refund_reference=event.refund_reference,
        refund_key=event.refund_key,
    )
    if refund_row is None:
        return "ignored: no such refund"
    succeeded = event.kind is EventKind.refund_succeeded
    report = refunds.record_refund(
        session,
        refund_row.id,
        succeeded=succeeded,
        reference=event.refund_reference,
        failure_message=None if succeeded else event.failure_message,
    )
    return f"refund {refund_row.id} already settled" if report is None else report


def _payment_of(session: Session, provider_name: str, event: ProviderEvent) -> Payment | None:
    """The attempt an event is about: by the provider's reference, else by our key."""
    if event.payment_reference:
        found = payment_service.by_reference(session, provider_name, event.payment_reference)
        if found is not None:
            return found
    if event.payment_key:
        found = payment_service.by_key(session, event.payment_key)
        if found is not None and found.provider.value == provider_name:
            return found
    return None
