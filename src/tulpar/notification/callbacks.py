"""The HTTP provider's callbacks (Twilio convention): status callbacks and inbound texts,
form-encoded and signed with ``X-Twilio-Signature`` over our configured public URL. Verified
here, then stored in the inbox (source ``twilio``); a forged or unsigned request stores
nothing."""

from __future__ import annotations

from urllib.parse import parse_qsl

from sqlalchemy.orm import Session

from tulpar.config import get_settings
from tulpar.errors import InvalidInputError, TulparError, UnauthorizedError
from tulpar.integrations import sms
from tulpar.integrations.sms import DeliveryReport, InboundSms, twilio_signature
from tulpar.notification import inbound


class SmsCallbacksDisabledError(TulparError):
    status = 503
    code = "sms_callbacks_disabled"
    title = "SMS callbacks are not configured (TULPAR_SMS_HTTP_AUTH_TOKEN)"


class InvalidSmsSignatureError(UnauthorizedError):
    code = "invalid_sms_signature"
    title = "The SMS provider signature is missing or wrong"


def _verified(body: bytes, signature: str | None, *, url: str) -> dict[str, str]:
    token = get_settings().sms_http_auth_token
    if not token:
        raise SmsCallbacksDisabledError()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidSmsSignatureError("The callback is not a signed form") from error
    if not twilio_signature.is_valid(token, url, pairs, signature):
        raise InvalidSmsSignatureError()
    return dict(pairs)


def receive_status(session: Session, *, body: bytes, signature: str | None) -> bool:
    """Verify and store one status callback; False for a replay. Never commits."""
    form = _verified(body, signature, url=sms.status_callback_url())
    message_id, status = form.get("MessageSid") or form.get("SmsSid"), form.get("MessageStatus")
    if not message_id or not status:
        raise InvalidInputError("A status callback needs MessageSid and MessageStatus")
    return inbound.store(
        session,
        DeliveryReport(
            provider="http",
            message_id=message_id,
            status=status,
            error_code=form.get("ErrorCode") or None,
            raw=form,
        ),
    )


def receive_text(session: Session, *, body: bytes, signature: str | None) -> bool:
    """Verify and store one inbound text; False for a replay. Never commits."""
    form = _verified(body, signature, url=sms.inbound_url())
    message_id, sender = form.get("MessageSid") or form.get("SmsSid"), form.get("From")
    if not message_id or not sender:
        raise InvalidInputError("An inbound message needs MessageSid and From")
    return inbound.store(
        session,
        InboundSms(
            provider="http",
            sender=sender,
            recipient=form.get("To", ""),
            text=form.get("Body", ""),
            provider_id=message_id,
        ),
    )
