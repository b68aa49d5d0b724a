"""What SMS providers send us — delivery reports and travellers' texts — stored in the inbox
(source ``smpp`` or ``twilio``), and handled from there: reports update the message they are
about; a keyword answers the balance or opts the card out of reminders and promotions.

Keywords, matched trimmed and case-insensitively (full-width letters too):
balance ``BAL``, ``BALANCE``, ``余额``, ``БАЛАНС``, ``ҚАЛДЫҚ``; stop ``STOP``,
``UNSUBSCRIBE``, ``退订``, ``СТОП``, ``ОТПИСКА`` (ru), ``ТОҚТАТУ`` (kk). Any other text, or a
number that is no card of ours, gets no answer: we do not reveal which numbers are cards, and
never start a reply loop with an automated sender."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.balance import service as balance_service
from tulpar.card import service as card_service
from tulpar.errors import CardNotFoundError, InvalidInputError
from tulpar.inbox import service as inbox_service
from tulpar.integrations.sms import DeliveryReport, InboundSms
from tulpar.models import CardState, InboxMessage
from tulpar.notification import delivery, repository
from tulpar.notification import service as notification_service

log = structlog.get_logger()

SOURCES = ("smpp", "twilio")
REPORT = "delivery_report"
TEXT = "inbound"
# Which provider (as notifications name it) each inbox source reports on.
PROVIDER_OF_SOURCE = {"smpp": "smpp", "twilio": "http"}

Keyword = Literal["balance", "stop"]
_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("BAL", "BALANCE", "余额", "БАЛАНС", "ҚАЛДЫҚ"), "balance"),
    **dict.fromkeys(("STOP", "UNSUBSCRIBE", "退订", "СТОП", "ОТПИСКА", "ТОҚТАТУ"), "stop"),
}
_KEYWORD_BY_FOLDED = {word.casefold(): keyword for word, keyword in _KEYWORDS.items()}
_TRAILING = " \t\r\n.!?。！？"


def keyword_of(text: str) -> Keyword | None:
    """The keyword a text is, if it is one."""
    word = unicodedata.normalize("NFKC", text).strip().strip(_TRAILING)
    return _KEYWORD_BY_FOLDED.get(word.casefold())


def source_of(provider: str) -> str:
    return "twilio" if provider == "http" else provider


def store(session: Session, arrival: DeliveryReport | InboundSms) -> bool:
    """Keep one report or text in the inbox; False when it was stored before. Never commits."""
    if isinstance(arrival, DeliveryReport):
        return inbox_service.store(
            session,
            inbox_service.Arrival(
                source=source_of(arrival.provider),
                # Each status of a message once: a replay is the same id and status.
                external_id=f"{arrival.message_id}:{arrival.status}",
                kind=REPORT,
                subject=arrival.message_id,
                payload=delivery.payload_of(arrival),
            ),
        )
    return inbox_service.store(
        session,
        inbox_service.Arrival(
            source=source_of(arrival.provider),
            external_id=arrival.provider_id or _text_id(arrival, clock.now()),
            kind=TEXT,
            subject=arrival.sender,
            payload={
                "sender": arrival.sender,
                "recipient": arrival.recipient,
                "text": arrival.text,
            },
        ),
    )


def _text_id(sms: InboundSms, now: datetime) -> str:
    # deliver_sm carry no id. An SMSC that redelivers (our response was lost) sends the same
    # text within moments: the same sender, text and minute is one message. Two identical
    # keywords from one traveller within a minute get one answer, which is what they want.
    seed = f"{sms.sender}|{sms.recipient}|{sms.text}|{now:%Y%m%d%H%M}"
    return "mo:" + hashlib.sha256(seed.encode()).hexdigest()[:40]


def handle(session: Session, message: InboxMessage) -> str:
    """Act on one stored report or text (the inbox job calls this, once per message)."""
    if message.kind == REPORT:
        return delivery.apply(
            session,
            PROVIDER_OF_SOURCE.get(message.source, message.source),
            message.payload,
            received_at=message.received_at,
            now=clock.now(),
        )
    if message.kind == TEXT:
        return _answer(session, message)
    return f"ignored: {message.kind}"


def _answer(session: Session, message: InboxMessage) -> str:
    payload: dict[str, Any] = message.payload
    keyword = keyword_of(str(payload.get("text", "")))
    if keyword is None:
        return "ignored: no keyword"
    try:
        card = card_service.find(session, str(payload.get("sender", "")))
    except (CardNotFoundError, InvalidInputError):
        return "ignored: not a card of ours"
    reply_key = f"sms-reply:{message.source}:{message.external_id}"
    if keyword == "stop":
        newly = repository.opt_out_of_marketing(session, card.id, at=clock.now())
        notification_service.queue_sms(
            session, card_id=card.id, template="stop_confirmed", context={}, dedupe_key=reply_key
        )
        log.info("notification.opted_out", card_id=card.id, newly=newly)
        return "opted out" if newly else "opted out already"
    balance = balance_service.balance_of(session, card)
    has_plan = balance.state is CardState.active and balance.validity_ends_at is not None
    template = "balance_reply" if has_plan else "balance_reply_no_plan"
    notification_service.queue_sms(
        session,
        card_id=card.id,
        template=template,
        context=notification_service.context_of(balance),
        dedupe_key=reply_key,
    )
    return f"answered: {template}"
