"""Partner webhook events: recorded in the transaction of the change that causes them (the
outbox), dispatched into one delivery per live endpoint of the partner that takes the type,
replayed from the back office, and read back as a delivery log.

Tenancy: an order's events go to the partner that placed it (``orders.partner_id``), a
card's events (data thresholds, expiry) to the partner that sold it (``cards.partner_id``);
nobody else ever gets them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.audit import service as audit_service
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.errors import TulparError
from tulpar.models import (
    PartnerWebhookAttempt,
    PartnerWebhookDelivery,
    PartnerWebhookEndpoint,
    PartnerWebhookEvent,
    WebhookDeliveryState,
)
from tulpar.partner_webhook import queue, repository

# Order states whose reaching is an event, and its type.
ORDER_EVENT_TYPES = {
    "completed": "order.completed",
    "refunded": "order.refunded",
    "provisioning_failed": "order.provisioning_failed",
}
EXPIRING_HOURS = (72, 24)
# How far back the expiry pass looks for moments it missed (a worker down a while).
EXPIRING_LOOKBACK = timedelta(hours=12)
BATCH_SIZE = 500


class WebhookEventNotFoundError(TulparError):
    status = 404
    code = "webhook_event_not_found"
    title = "Webhook event not found"


class WebhookReplayImpossibleError(TulparError):
    status = 409
    code = "webhook_no_live_endpoint"
    title = "The partner has no live endpoint that takes this event"


def record_order_event(session: Session, order_id: int, state: str) -> int | None:
    """The order has just reached ``state`` (in this transaction): record its webhook event
    for the partner that placed it, if that partner takes the type. Returns the event's id,
    or None when there is nothing to record (no partner, no endpoint, not in ``state``, or
    recorded already — a second call records nothing)."""
    event_type = ORDER_EVENT_TYPES.get(state)
    if event_type is None:
        raise ValueError(f"no webhook event for an order {state}")
    event_id = repository.record_order_event(
        session, order_id=order_id, state=state, event_type=event_type
    )
    if event_id is not None:
        queue.dispatch_soon(session)
    return event_id


def record_expiring(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> int:
    """Record ``card.expiring`` for partner cards whose validity ends in 72 h or 24 h (a
    moment missed by up to the look-back is caught up); once per card, moment and end."""
    recorded = 0
    for hours in EXPIRING_HOURS:
        due_by = now + timedelta(hours=hours)
        recorded += len(
            repository.record_expiring(
                session,
                hours=hours,
                ends_after=due_by - EXPIRING_LOOKBACK,
                ends_by=due_by,
                limit=limit,
            )
        )
    if recorded:
        queue.dispatch_soon(session)
    return recorded


def dispatch(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> int:
    """Turn undispatched events (oldest first) into deliveries and queue their sending;
    returns how many events were dispatched (``limit`` means more may wait)."""
    picked, keys = repository.dispatch(session, now=now, limit=limit)
    for endpoint_id, card_id in keys:
        queue.deliver_after(session, endpoint_id, card_id, timedelta(0))
    return picked


def has_undispatched(session: Session) -> bool:
    return repository.any_undispatched(session)


def queue_due(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> int:
    """Make sure every (endpoint, card) with a due delivery has its job (a backstop: the
    jobs are queued with the deliveries and the retries)."""
    keys = repository.due_keys(session, now=now, limit=limit)
    for endpoint_id, card_id in keys:
        queue.deliver_after(session, endpoint_id, card_id, timedelta(0))
    return len(keys)


def replay(session: Session, caller: Caller, event_id: int) -> list[PartnerWebhookDelivery]:
    """Send the event again (same id and body, new deliveries) to each live endpoint of its
    partner that takes its type; behind what is already pending for the card there.
    Staff with ``webhooks.replay``; audited."""
    roles.require(caller, "webhooks.replay")
    event = repository.event(session, event_id)
    if event is None:
        raise WebhookEventNotFoundError()
    endpoints = [
        endpoint
        for endpoint in repository.live_endpoints(session, event.partner_id)
        if event.type in endpoint.event_types
    ]
    if not endpoints:
        raise WebhookReplayImpossibleError()
    before = len(repository.deliveries_of(session, [event.id]))
    now = clock.now()
    created = []
    for endpoint in endpoints:
        delivery = PartnerWebhookDelivery(
            event_id=event.id,
            endpoint_id=endpoint.id,
            card_id=event.card_id,
            state=WebhookDeliveryState.pending,
            next_attempt_at=now,
            replayed_by=caller.actor[:120],
            created_at=now,
        )
        repository.add(session, delivery)
        queue.deliver_after(session, endpoint.id, event.card_id, timedelta(0))
        created.append(delivery)
    audit_service.record(
        session,
        caller,
        "webhooks.replay",
        subject=f"webhook_event:{event.public_id}",
        before={"deliveries": before},
        after={
            "deliveries": before + len(created),
            "replayed": [{"delivery_id": d.id, "endpoint_id": d.endpoint_id} for d in created],
        },
    )
    return created


# The delivery log the back office shows.


@dataclass(frozen=True, slots=True)
class DeliveryView:
    delivery: PartnerWebhookDelivery
    endpoint: PartnerWebhookEndpoint
    attempts: list[PartnerWebhookAttempt]


@dataclass(frozen=True, slots=True)
class EventView:
    event: PartnerWebhookEvent
    partner_name: str
    deliveries: list[DeliveryView]

    @property
    def state(self) -> str:
        """delivered / pending / failed / cancelled / none, for a list line."""
        states = {view.delivery.state for view in self.deliveries}
        for state in (
            WebhookDeliveryState.pending,
            WebhookDeliveryState.failed,
            WebhookDeliveryState.delivered,
            WebhookDeliveryState.cancelled,
        ):
            if state in states:
                return state.value
        return "none"


def _views(session: Session, events: list[tuple[PartnerWebhookEvent, str]]) -> list[EventView]:
    deliveries = repository.deliveries_of(session, [event.id for event, _ in events])
    attempts = repository.attempts_of(session, [delivery.id for delivery in deliveries])
    endpoints = repository.endpoints_by_id(
        session, sorted({delivery.endpoint_id for delivery in deliveries})
    )
    by_delivery: dict[int, list[PartnerWebhookAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    by_event: dict[int, list[DeliveryView]] = {}
    for delivery in deliveries:
        by_event.setdefault(delivery.event_id, []).append(
            DeliveryView(
                delivery, endpoints[delivery.endpoint_id], by_delivery.get(delivery.id, [])
            )
        )
    return [EventView(event, name, by_event.get(event.id, [])) for event, name in events]


def delivery_log(
    session: Session,
    caller: Caller,
    *,
    partner_id: int | None = None,
    event_type: str | None = None,
    limit: int = 100,
) -> list[EventView]:
    """The newest events with their deliveries and each attempt's answer."""
    roles.require(caller, "webhooks.view")
    events = repository.recent_events(
        session, partner_id=partner_id, event_type=event_type, limit=max(1, min(limit, 500))
    )
    return _views(session, events)


def event_detail(session: Session, caller: Caller, event_id: int) -> EventView:
    roles.require(caller, "webhooks.view")
    event = repository.event(session, event_id)
    if event is None:
        raise WebhookEventNotFoundError()
    names = dict(repository.partners(session))
    return _views(session, [(event, names.get(event.partner_id, "?"))])[0]


def partners(session: Session, caller: Caller) -> list[tuple[int, str]]:
    roles.require(caller, "webhooks.view")
    return repository.partners(session)
