"""The inbound webhook inbox: every provider event is stored first (unique on provider and
event id), answered at once, and handled by the ``payment.process_webhook`` job, which
stamps it handled. Replays and duplicates find the row already there and change nothing."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.errors import TulparError
from tulpar.integrations.payments.protocol import (
    EventKind,
    ProviderEvent,
    ProviderPayment,
    ProviderStatus,
    WebhookSignatureError,
)
from tulpar.integrations.payments.registry import provider_for
from tulpar.jobs import defer_in_transaction
from tulpar.models import Payment
from tulpar.payment import refunds, repository
from tulpar.payment import service as payment_service

PROCESS_TASK = "payment.process_webhook"
WEBHOOK_PROVIDERS = ("sandbox", "stripe")

_STATUS_OF = {
    EventKind.payment_succeeded: ProviderStatus.succeeded,
    EventKind.payment_failed: ProviderStatus.failed,
    EventKind.payment_processing: ProviderStatus.pending,
}
_REFUND_OUTCOMES = {EventKind.refund_succeeded, EventKind.refund_failed}


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
    stored_id = repository.add_webhook_unless_seen(
        session,
        {
            "provider": provider_name,
            "event_id": event.event_id[:255],
            "event_type": event.raw_type[:64],
            "payload": payload,
            "received_at": clock.now(),
        },
    )
    if stored_id is None:
        return False
    defer_in_transaction(session, PROCESS_TASK, webhook_event_id=stored_id)
    return True


def process(session: Session, webhook_event_id: int) -> str | None:
    """Handle one stored event once (the row is locked meanwhile). Returns the outcome, or
    None when it had already been handled."""
    stored = repository.webhook_for_update(session, webhook_event_id)
    if stored is None or stored.handled_at is not None:
        return None
    event = provider_for(stored.provider).interpret(stored.payload)
    outcome = _apply(session, stored.provider, event)
    stored.handled_at = clock.now()
    stored.outcome = outcome
    session.flush()
    return outcome


def _apply(session: Session, provider_name: str, event: ProviderEvent) -> str:
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


def _apply_refund(session: Session, provider_name: str, event: ProviderEvent) -> str:
    refund_row = refunds.refund_for_event(
        session,
        provider_name,
        refund_reference=event.refund_reference,
        refund_key=event.refund_key,
    )
    if refund_row is None:
        return "ignored: no such refund"
    succeeded = event.kind is EventKind.refund_succeeded
    if not refunds.record_refund(
        session,
        refund_row.id,
        succeeded=succeeded,
        reference=event.refund_reference,
        failure_message=None if succeeded else event.failure_message,
    ):
        return f"refund {refund_row.id} already settled"
    return f"refund {refund_row.id} {'succeeded' if succeeded else 'failed'}"


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
