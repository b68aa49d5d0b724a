"""The carrier's signed status callbacks: verified here and stored in the inbox (unique on
the event id, so replays change nothing); when the inbox job hands one back,
:func:`settle_from` settles the provisioning it is about."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError, TulparError, UnauthorizedError
from tulpar.inbox import service as inbox_service
from tulpar.integrations.carrier.wire import CallbackEvent
from tulpar.integrations.signature import SignatureError, verify
from tulpar.provisioning import repository, settlement
from tulpar.provisioning.settlement import Settlement

SOURCE = "carrier"


class CarrierCallbacksDisabledError(TulparError):
    status = 503
    code = "carrier_callbacks_disabled"
    title = "Carrier callbacks are not configured (TULPAR_CARRIER_CALLBACK_SECRET)"


class InvalidCarrierSignatureError(UnauthorizedError):
    code = "invalid_carrier_signature"
    title = "The carrier callback signature is missing, stale or wrong"


def receive(session: Session, *, body: bytes, signature: str | None) -> bool:
    """Verify and store one callback and queue its handling. Returns False for a replay
    (same event id): nothing new is stored or queued. Never commits."""
    secret = get_settings().carrier_callback_secret
    if not secret:
        raise CarrierCallbacksDisabledError()
    try:
        verify(secret, signature, body)
    except SignatureError as error:
        raise InvalidCarrierSignatureError(str(error)) from error
    try:
        event = CallbackEvent.model_validate_json(body)
    except ValidationError as error:
        raise InvalidInputError("The callback body is not a carrier status event") from error

    return inbox_service.store(
        session,
        inbox_service.Arrival(
            source=SOURCE,
            external_id=event.event_id,
            kind=event.status.value,
            subject=event.reference,
            payload=event.model_dump(mode="json"),
        ),
    )


def settle_from(session: Session, payload: dict[str, Any]) -> Settlement | str:
    """Settle the provisioning a stored callback is about; a text when it is about none."""
    event = CallbackEvent.model_validate(payload)
    provisioning = repository.by_reference(session, event.reference, for_update=True)
    if provisioning is None:
        return "unknown reference"
    return settlement.settle(
        session,
        provisioning,
        status=event.status.value,
        via="callback",
        now=clock.now(),
        carrier_reference=payload.get("carrier_reference"),
        error_code=payload.get("error_code"),
    )
