"""What providers tell us after a message left: delivery reports, applied once each from the
inbox. A message moves forward only — ``sent`` → ``delivered`` when every part is delivered,
``sent`` → ``failed`` when any part is finally not — so a late or replayed report changes
nothing. A report can overtake our own record of the send (the SMSC answers, the receipt
comes, and only then does the send job record the ids); it is then handled again shortly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from tulpar.integrations.sms import DeliveryReport
from tulpar.kit import metrics
from tulpar.models import Notification, NotificationState
from tulpar.models.notification import NotificationPart
from tulpar.notification import repository

Outcome = Literal["delivered", "failed", "pending"]

# SMPP 3.4 final message states (receipt ``stat:``), and Twilio's message statuses.
_SMPP_OUTCOMES: dict[str, Outcome] = {
    "DELIVRD": "delivered",
    "UNDELIV": "failed",
    "REJECTD": "failed",
    "EXPIRED": "failed",
    "DELETED": "failed",
    "UNKNOWN": "failed",
}
_TWILIO_OUTCOMES: dict[str, Outcome] = {
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# A report about a message id nobody recorded, this long after it came, will stay unknown.
UNKNOWN_AFTER = timedelta(minutes=10)


class DeliveryReportTooEarlyError(Exception):
    """The report names a message whose send is not recorded yet: handle it again later."""


def outcome_of(provider: str, status: str) -> Outcome:
    if provider == "smpp":
        return _SMPP_OUTCOMES.get(status.upper(), "pending")
    return _TWILIO_OUTCOMES.get(status.lower(), "pending")


def payload_of(report: DeliveryReport) -> dict[str, Any]:
    """How a report is kept in the inbox."""
    return {
        "message_id": report.message_id,
        "status": report.status,
        "error_code": report.error_code,
        "raw": report.raw,
    }


@dataclass(frozen=True, slots=True)
class _Report:
    message_id: str
    status: str
    error_code: str | None
    outcome: Outcome


def apply(
    session: Session,
    provider: str,
    payload: dict[str, Any],
    *,
    received_at: datetime,
    now: datetime,
) -> str:
    """Record one stored report on its message; returns what it changed."""
    status = str(payload.get("status", ""))
    report = _Report(
        message_id=str(payload["message_id"]),
        status=status[:32],
        error_code=None if payload.get("error_code") is None else str(payload["error_code"])[:16],
        outcome=outcome_of(provider, status),
    )
    part: NotificationPart | None = None
    if provider == "smpp":
        part = repository.part_by_message_id(session, report.message_id)
        notification_id = None if part is None else part.notification_id
    else:
        found = repository.by_provider_message_id(session, provider, report.message_id)
        notification_id = None if found is None else found.id
    if notification_id is None:
        if now - received_at < UNKNOWN_AFTER:
            raise DeliveryReportTooEarlyError(report.message_id)
        return f"ignored: unknown message id {report.message_id}"
    # One report at a time per message: parts' receipts may be handled concurrently.
    notification = repository.lock(session, notification_id)
    assert notification is not None
    if part is not None:
        session.refresh(part, with_for_update=True)
        return _apply_to_part(session, notification, part, report, now=now)
    return _apply_to_message(notification, report, now=now)


def _apply_to_message(notification: Notification, report: _Report, *, now: datetime) -> str:
    if notification.state is not NotificationState.sent:
        return f"ignored: {report.status} for a {notification.state.value} message"
    _stamp(notification, report, now=now)
    if report.outcome == "delivered":
        notification.state = NotificationState.delivered
        metrics.sms_event("delivered")
    elif report.outcome == "failed":
        notification.state = NotificationState.failed
        notification.error = _failure(report)
        metrics.sms_event("failed")
    return f"{notification.state.value}: {report.status}"


def _apply_to_part(
    session: Session,
    notification: Notification,
    part: NotificationPart,
    report: _Report,
    *,
    now: datetime,
) -> str:
    if outcome_of("smpp", part.delivery_status or "") != "pending":
        return f"ignored: part {part.part_number} already {part.delivery_status}"
    part.delivery_status = report.status
    part.delivery_error_code = report.error_code
    part.delivery_reported_at = now
    session.flush()
    if notification.state is not NotificationState.sent:
        return f"part {part.part_number}: {report.status} (message {notification.state.value})"
    _stamp(notification, report, now=now)
    if report.outcome == "failed":
        notification.state = NotificationState.failed
        notification.error = f"part {part.part_number}: {_failure(report)}"
        metrics.sms_event("failed")
    elif report.outcome == "delivered":
        parts = repository.parts_of(session, notification.id)
        if all(outcome_of("smpp", each.delivery_status or "") == "delivered" for each in parts):
            notification.state = NotificationState.delivered
            metrics.sms_event("delivered")
    return f"part {part.part_number}: {report.status} (message {notification.state.value})"


def _stamp(notification: Notification, report: _Report, *, now: datetime) -> None:
    notification.delivery_status = report.status
    notification.delivery_error_code = report.error_code
    notification.delivery_reported_at = now


def _failure(report: _Report) -> str:
    code = f" (error {report.error_code})" if report.error_code else ""
    return f"not delivered: {report.status}{code}"
