"""An order's story in one list, oldest first: order events, every carrier call and every
carrier callback. Support reads it; a ticket freezes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar.inbox import service as inbox_service
from tulpar.order import service as order_service
from tulpar.provisioning import callbacks as carrier_callbacks
from tulpar.provisioning import service as provisioning_service


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
    provisioning = provisioning_service.for_order(session, order_id)
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
            for attempt in provisioning_service.attempts_of(session, provisioning)
        )
        entries.extend(
            {
                "at": _at(message.received_at),
                "what": "carrier_callback",
                "event_id": message.external_id,
                "status": message.kind,
                "handled_at": _at(message.handled_at),
                "outcome": message.outcome,
            }
            for message in inbox_service.about(
                session, source=carrier_callbacks.SOURCE, subject=provisioning.reference
            )
        )
    return sorted(entries, key=lambda entry: entry["at"] or "")
