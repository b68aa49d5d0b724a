"""Handling one inbox message: the domain that understands its source reads it, and what it
reports is acted on here. The message is stamped handled in the same transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tulpar.fulfilment.paid import InLineProvisioning
from tulpar.fulfilment.payments import on_payment
from tulpar.fulfilment.provisioning import on_settlement
from tulpar.fulfilment.refunds import on_refund
from tulpar.inbox import service as inbox_service
from tulpar.models import InboxMessage
from tulpar.notification import inbound as sms_inbound
from tulpar.payment import webhooks as payment_webhooks
from tulpar.payment.refunds import RefundReport
from tulpar.payment.service import PaymentReport
from tulpar.provisioning import callbacks as carrier_callbacks


def handle(
    session: Session, message_id: int, *, in_line: InLineProvisioning | None = None
) -> str | None:
    """Handle one stored message once (it is locked meanwhile). Returns the outcome, or None
    when it had been handled already. ``in_line``: see :func:`on_payment`."""
    message = inbox_service.claim(session, message_id)
    if message is None:
        return None
    if message.source in payment_webhooks.WEBHOOK_PROVIDERS:
        outcome = _payment_webhook(session, message, in_line)
    else:
        handler = _HANDLERS.get(message.source)
        outcome = (
            f"ignored: no handler for {message.source}"
            if handler is None
            else handler(session, message)
        )
    inbox_service.stamp(session, message, outcome=outcome)
    return outcome


def _payment_webhook(
    session: Session, message: InboxMessage, in_line: InLineProvisioning | None
) -> str:
    news = payment_webhooks.apply_event(session, message.source, message.payload)
    if isinstance(news, PaymentReport):
        return on_payment(session, news, in_line=in_line)
    if isinstance(news, RefundReport):
        return on_refund(session, news)
    return news


def _carrier_callback(session: Session, message: InboxMessage) -> str:
    settlement = carrier_callbacks.settle_from(session, message.payload)
    if isinstance(settlement, str):
        return settlement
    return on_settlement(session, settlement).value


# Sources besides the payment providers (whose webhooks may pay an order, see handle()).
_HANDLERS: dict[str, Callable[[Session, InboxMessage], str]] = {
    carrier_callbacks.SOURCE: _carrier_callback,
    **dict.fromkeys(sms_inbound.SOURCES, sms_inbound.handle),
}
