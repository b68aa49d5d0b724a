"""Outgoing messages: queue one (deduplicated, rendered in the card's language, job deferred
in the same transaction), then send it outside any write transaction: from that job, or
from the job that queued it right after its commit (:func:`sending_in_line`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.balance import service as balance_service
from tulpar.balance.service import CardBalance
from tulpar.errors import CardNotFoundError
from tulpar.integrations.sms import SmsMessage, SmsReceipt
from tulpar.jobs import defer_in_transaction
from tulpar.kit import metrics
from tulpar.models import Card, Notification, NotificationState
from tulpar.notification import repository
from tulpar.notification.segments import count_segments
from tulpar.notification.templates import BALANCE_KEYS, TEMPLATES, render

log = structlog.get_logger()

SEND_TASK = "notification.send"
DECOY_TASK = "notification.send_nothing"
DECOY_LANGUAGE = "zh-Hans"  # the usual traveller's, so the text is as long as a real one
# Secrets inside a template's text, masked once the message has left through a real provider.
SECRET_PATTERNS = {"otp": re.compile(r"\b[0-9]{6}\b")}
# How long the job of an SMS sent in line waits before sending it itself: it only acts when
# the sender died between its commit and the provider's answer (see sending_in_line).
IN_LINE_SAFETY_DELAY = timedelta(seconds=30)
_SENT_IN_LINE = "tulpar.notification.sent_in_line"


@dataclass(frozen=True, slots=True)
class InLineSms:
    """An SMS its caller sends once the transaction that queued it has committed."""

    pending: PendingSms
    job_id: int  # its notification.send job, waiting IN_LINE_SAFETY_DELAY


@contextmanager
def sending_in_line(session: Session) -> Iterator[list[InLineSms]]:
    """Within the block, SMS that :func:`queue_sms` queues are the caller's to send right
    after the transaction commits (``notification.tasks.send_in_line``), rather than waiting
    in the job queue: a traveller's confirmation leaves as soon as the renewal is done. Each
    still gets its ``notification.send`` job, deferred ``IN_LINE_SAFETY_DELAY`` later and
    cancelled once sent, so a sender that dies in between loses nothing. The list fills as
    they are queued."""
    queued: list[InLineSms] = []
    session.info[_SENT_IN_LINE] = queued
    try:
        yield queued
    finally:
        session.info.pop(_SENT_IN_LINE, None)


def balance_context(session: Session, card: Card) -> dict[str, object]:
    """The card's validity end and remaining allowances/wallet, as templates expect them."""
    return context_of(balance_service.balance_of(session, card))


def context_of(balance: CardBalance) -> dict[str, object]:
    """A balance as templates expect it."""
    return {
        "validity_ends_at": balance.validity_ends_at,
        "data_bytes": balance.data_bytes.remaining,
        "voice_seconds": balance.voice_seconds.remaining,
        "sms_count": balance.sms_count.remaining,
        "wallet_minor": balance.wallet.amount_minor,
        "wallet_currency": balance.wallet.currency,
    }


def queue_sms(
    session: Session,
    *,
    card_id: int,
    template: str,
    context: dict[str, object],
    dedupe_key: str,
) -> Notification | None:
    """Queue one SMS to the card's number in the card's language and defer its sending.

    Returns ``None`` when ``dedupe_key`` was already used (nothing new is queued or sent),
    when the card has no phone number, or for a ``marketing`` template when the card opted
    out (see :func:`may_send_marketing`). For ``renewal_confirmed`` and ``topup_confirmed`` the
    balance values (validity end, data, minutes, SMS, wallet) are read from the card now
    unless given. Never commits."""
    if template not in TEMPLATES:
        raise ValueError(f"Unknown notification template {template!r}")
    card = repository.card(session, card_id)
    if card is None:
        raise CardNotFoundError()
    if card.msisdn is None:
        log.warning("notification.no_recipient", card_id=card_id, template=template)
        return None
    if TEMPLATES[template].marketing and not may_send_marketing(card):
        log.info("notification.opted_out", card_id=card_id, template=template)
        return None
    values: dict[str, Any] = dict(context)
    if any(key in TEMPLATES[template].required for key in BALANCE_KEYS) and not all(
        key in values for key in BALANCE_KEYS
    ):
        values = {**balance_context(session, card), **values}
    body = render(template, values, language=card.language)
    segments = count_segments(body)
    notification = repository.insert_unless_duplicate(
        session,
        {
            "card_id": card.id,
            "channel": "sms",
            "template": template,
            "language": card.language,
            "recipient": card.msisdn,
            "body": body,
            "encoding": segments.encoding,
            "segment_count": segments.segments,
            "dedupe_key": dedupe_key,
            "state": NotificationState.queued,
        },
    )
    if notification is None:
        return None
    in_line: list[InLineSms] | None = session.info.get(_SENT_IN_LINE)
    if in_line is None:
        defer_in_transaction(session, SEND_TASK, notification_id=notification.id)
    else:
        delay = int(IN_LINE_SAFETY_DELAY.total_seconds())
        job_id = defer_in_transaction(
            session, SEND_TASK, schedule_in={"seconds": delay}, notification_id=notification.id
        )
        in_line.append(InLineSms(_pending(notification), job_id))
    return notification


def queue_decoy_sms(
    session: Session, *, template: str, context: dict[str, object], dedupe_key: str
) -> None:
    """The work of :func:`queue_sms` for a message that goes nowhere: rendered and measured,
    the dedupe key looked up, a job deferred that sends nothing. For answers whose time must
    not tell whether there was a recipient (OTP codes for unknown cards)."""
    body = render(template, dict(context), language=DECOY_LANGUAGE)
    count_segments(body)
    repository.rehearse_insert(session, dedupe_key)
    defer_in_transaction(session, DECOY_TASK, notification_id=0)


def may_send_marketing(card: Card) -> bool:
    """Whether reminders and promotions may be sent to ``card``: not after the traveller
    texted STOP. Verification codes, confirmations and answers to the traveller's own texts
    are sent regardless; :func:`queue_sms` applies this to every ``marketing`` template."""
    return card.marketing_opt_out_at is None


@dataclass(frozen=True, slots=True)
class PendingSms:
    notification_id: int
    message: SmsMessage


def pending_sms(session: Session, notification_id: int) -> PendingSms | None:
    """What to submit for a queued notification; ``None`` once it was sent or failed."""
    notification = repository.get(session, notification_id)
    if notification is None or notification.state is not NotificationState.queued:
        return None
    return _pending(notification)


def _pending(notification: Notification) -> PendingSms:
    return PendingSms(
        notification_id=notification.id,
        message=SmsMessage(
            recipient=notification.recipient,
            text=notification.body,
            idempotency_key=f"notification-{notification.id}",
        ),
    )


def record_sent(session: Session, notification_id: int, receipt: SmsReceipt) -> bool:
    """Stamp the provider's id and state; ``False`` if another run already did.

    Once a real provider has a verification code, our copy is masked: codes are kept only as
    keyed hashes. (With ``outbox`` the row *is* the delivered message, so it stays readable.)"""
    sent = repository.mark_sent(
        session,
        notification_id,
        provider=receipt.provider,
        provider_message_id=receipt.provider_message_id,
        state=NotificationState(receipt.state),
        at=clock.now(),
    )
    if sent is None:
        return False
    metrics.sms_event("sent")
    if sent.template in SECRET_PATTERNS and receipt.provider != "outbox":
        masked = SECRET_PATTERNS[sent.template].sub("••••••", sent.body)
        repository.replace_body(session, notification_id, masked)
    # Receipts name parts by their own ids: keep them, so each receipt finds its message.
    repository.add_parts(
        session, notification_id, card_id=sent.card_id, message_ids=receipt.part_message_ids
    )
    return True


def record_error(
    session: Session, notification_id: int, *, error: str, final: bool, provider: str
) -> None:
    repository.record_error(session, notification_id, error=error, final=final, provider=provider)
    if final:
        metrics.sms_event("failed")


def newest(session: Session, *, limit: int = 100) -> list[Notification]:
    return repository.newest(session, limit=limit)


def for_card(session: Session, card_id: int) -> list[Notification]:
    return repository.for_card(session, card_id)
