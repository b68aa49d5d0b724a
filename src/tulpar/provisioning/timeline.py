"""An order's story in one list, oldest first: order events, every carrier call and every
carrier callback. Support reads it; failed provisioning freezes it into the ticket."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar.order import service as order_service
from tulpar.provisioning import repository


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def of_order(session: Session, order_id: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {
            "at": _at(event.occurred_at),
            "what": "order_event",
            "from_state": None if event.from_state is None else event.from_state.value,
            "to_state": event.to_state.value,
            "actor": event.actor,
            "reason": event.reason,
            "details": event.details,
        }
        for event in order_service.timeline(session, order_id)
    ]
    provisioning = repository.for_order(session, order_id)
    if provisioning is not None:
        entries.extend(
            {
                "at": _at(attempt.started_at),
                "what": "carrier_call",
                "call": attempt.call.value,
                "number": attempt.number,
                "reference": provisioning.reference,
                "outcome": attempt.outcome or "no answer recorded",
                "error_code": attempt.error_code,
                "message": attempt.message,
                "finished_at": _at(attempt.finished_at),
            }
            for attempt in repository.attempts_of(session, provisioning.id)
        )
        entries.extend(
            {
                "at": _at(callback.received_at),
                "what": "carrier_callback",
                "event_id": callback.event_id,
                "status": callback.status,
                "handled_at": _at(callback.handled_at),
                "outcome": callback.outcome,
            }
            for callback in repository.callbacks_for(session, provisioning.reference)
        )
    return sorted(entries, key=lambda entry: entry["at"] or "")
