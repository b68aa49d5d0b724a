"""The carrier's signed status callbacks: verified and stored first (unique on the event id),
answered at once, then handled by the ``provisioning.handle_callback`` job."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError, TulparError, UnauthorizedError
from tulpar.integrations.carrier.wire import CallbackEvent
from tulpar.integrations.signature import SignatureError, verify
from tulpar.jobs import defer_in_transaction
from tulpar.provisioning import repository, settlement
from tulpar.provisioning.settlement import Settled

HANDLE_TASK = "provisioning.handle_callback"


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

    callback_id = repository.insert_callback(
        session,
        {
            "event_id": event.event_id,
            "reference": event.reference,
            "status": event.status.value,
            "payload": event.model_dump(mode="json"),
            "received_at": clock.now(),
        },
    )
    if callback_id is None:
        return False
    defer_in_transaction(session, HANDLE_TASK, callback_id=callback_id)
    return True


def handle(session: Session, callback_id: int) -> Settled | None:
    """Settle the order a stored callback is about, once. ``None`` if handled before."""

    callback = repository.callback_for_update(session, callback_id)
    if callback is None or callback.handled_at is not None:
        return None
    now = clock.now()
    callback.handled_at = now
    provisioning = repository.by_reference(session, callback.reference, for_update=True)
    if provisioning is None:
        callback.outcome = "unknown reference"
        return None
    payload = callback.payload
    outcome = settlement.settle(
        session,
        provisioning,
        status=callback.status,
        via="callback",
        now=now,
        carrier_reference=payload.get("carrier_reference"),
        error_code=payload.get("error_code"),
    )
    callback.outcome = outcome.value
    return outcome
