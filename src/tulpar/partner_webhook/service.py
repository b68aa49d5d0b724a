"""Partner webhook events: recorded in the transaction of the change that causes them (the
outbox), dispatched into one delivery per live endpoint of the partner that takes the type,
replayed from the back office, and read back as a delivery log.

Tenancy: an order's events go to the partner that placed it (``orders.partner_id``), a
card's events (data thresholds, expiry) to the partner that sold it (``cards.partner_id``);
nobody else ever gets them."""

from __future__ import annotations

import json
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
from tulpar.partner_webhook.delivery import body_of

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
    Staff with ``webhooks.replay``; audited.

    Idempotent while a replay is on its way: an endpoint that still has a pending delivery
    of the event gets no second one (a double click, or a replay of an event still being
    retried, queues nothing), and an event not dispatched yet is about to be sent anyway.
    Returns the deliveries created (none in those cases). Replays of one event are
    serialised by locking its row, so two racing clicks cannot both pass the check."""
    roles.require(caller, "webhooks.replay")
    event = repository.lock_event(session, event_id)
    if event is None:
        raise WebhookEventNotFoundError()
    endpoints = [
        endpoint
        for endpoint in repository.live_endpoints(session, event.partner_id)
        if event.type in endpoint.event_types
    ]
    if not endpoints:
        raise WebhookReplayImpossibleError()
    if event.dispatched_at is None:
        return []
    on_their_way = repository.endpoints_with_pending(session, event.id)
    endpoints = [endpoint for endpoint in endpoints if endpoint.id not in on_their_way]
    if not endpoints:
        return []
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
        """pending / failed / delivered / cancelled / none, for a list line: the first of
        :data:`repository.STATE_PRIORITY` among each endpoint's newest delivery."""
        newest: dict[int, WebhookDeliveryState] = {}
        for view in self.deliveries:  # in id order: a later one replaces an earlier one
            newest[view.delivery.endpoint_id] = view.delivery.state
        for state in repository.STATE_PRIORITY:
            if state in newest.values():
                return state.value
        return repository.NO_DELIVERY

    @property
    def body(self) -> str:
        """The JSON partners receive, indented for reading."""
        return json.dumps(json.loads(body_of(self.event)), indent=2, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class LogPage:
    events: list[EventView]
    older_than: int | None  # the ``before_id`` of the next page; None: this is the last


LOG_STATES = (*(state.value for state in repository.STATE_PRIORITY), repository.NO_DELIVERY)


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
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> LogPage:
    """The newest events (older than ``before_id``, when given) with their deliveries and
    each attempt's answer; ``state`` one of :data:`LOG_STATES`."""
    roles.require(caller, "webhooks.view")
    if state is not None and state not in LOG_STATES:
        raise ValueError(f"no delivery log state {state!r}")
    limit = max(1, min(limit, 500))
    events = repository.recent_events(
        session,
        partner_id=partner_id,
        event_type=event_type,
        state=state,
        before_id=before_id,
        limit=limit + 1,
    )
    shown = events[:limit]
    older_than = shown[-1][0].id if len(events) > limit else None
    return LogPage(_views(session, shown), older_than)


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
