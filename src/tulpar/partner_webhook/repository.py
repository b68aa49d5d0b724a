"""Every query of partner webhooks. Events are written by set-based SQL that reads the
change's rows as committed with it (the order and its newest order event, the cards due a
reminder), so the data is frozen as it was and a second call records nothing (unique
``dedupe_key``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, text, update
from sqlalchemy.orm import Session, aliased

from tulpar.models import (
    Partner,
    PartnerWebhookAttempt,
    PartnerWebhookDelivery,
    PartnerWebhookEndpoint,
    PartnerWebhookEvent,
    WebhookDeliveryState,
)

# A partner gets events only while it has a live endpoint that takes the type; the same
# test is in the threshold trigger (migration 0017).
_SUBSCRIBED = """
    EXISTS (SELECT 1 FROM partner_webhook_endpoints AS e
            WHERE e.partner_id = {partner} AND e.deleted_at IS NULL
              AND CAST(:type AS varchar) = ANY (e.event_types))
"""

# The order's newest event into ``state`` is the cause: one webhook event per order move
# (a renewal that fails, is retried by support and fails again gets two).
_RECORD_ORDER_EVENT = text(
    """
    INSERT INTO partner_webhook_events
        (partner_id, card_id, order_id, type, dedupe_key, data, occurred_at)
    SELECT o.partner_id, o.card_id, o.id, :type, 'order_event:' || oe.id,
           jsonb_build_object(
             'order', jsonb_build_object(
               'id', o.id, 'kind', o.kind, 'state', o.state, 'plan_code', p.code,
               'channel', o.channel, 'amount_minor', o.amount_minor, 'currency', o.currency),
             'card', jsonb_build_object(
               'iccid', c.iccid,
               'validity_ends_at', partner_webhook_time(c.validity_ends_at)),
             'reason', oe.reason),
           oe.occurred_at
    FROM orders AS o
    JOIN cards AS c ON c.id = o.card_id
    LEFT JOIN plans AS p ON p.id = o.plan_id
    CROSS JOIN LATERAL (
        SELECT id, reason, occurred_at FROM order_events
        WHERE order_id = o.id AND to_state = o.state
        ORDER BY id DESC LIMIT 1
    ) AS oe
    WHERE o.id = :order_id AND o.state = :state AND o.partner_id IS NOT NULL
      AND """
    + _SUBSCRIBED.format(partner="o.partner_id")
    + """
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
    """
)

# Cards whose validity end is ``hours`` away (within the look-back), through
# ix_cards_state_validity_ends_at; one event per card, reminder and validity end (a
# renewal moves the end, and the new end gets events of its own).
_RECORD_EXPIRING = text(
    """
    INSERT INTO partner_webhook_events (partner_id, card_id, type, dedupe_key, data, occurred_at)
    SELECT c.partner_id, c.id, :type, k.dedupe_key,
           jsonb_build_object(
             'card', jsonb_build_object(
               'iccid', c.iccid,
               'validity_ends_at', partner_webhook_time(c.validity_ends_at)),
             'hours_before', CAST(:hours AS integer)),
           c.validity_ends_at - make_interval(hours => CAST(:hours AS integer))
    FROM cards AS c
    CROSS JOIN LATERAL (
        SELECT 'expiring:' || CAST(:hours AS text) || 'h:' || c.id || ':'
               || CAST(extract(epoch FROM c.validity_ends_at) AS bigint) AS dedupe_key
    ) AS k
    WHERE c.state = 'active' AND c.partner_id IS NOT NULL
      AND c.validity_ends_at > :ends_after AND c.validity_ends_at <= :ends_by
      AND """
    + _SUBSCRIBED.format(partner="c.partner_id")
    + """
      AND NOT EXISTS (SELECT 1 FROM partner_webhook_events AS x WHERE x.dedupe_key = k.dedupe_key)
    ORDER BY c.validity_ends_at, c.id
    LIMIT :limit
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
    """
)

# Oldest first, one dispatcher at a time (the job's lock): deliveries of one card are
# created in the order its events were, which is the order they are sent in.
_DISPATCH = text(
    """
    WITH picked AS (
        SELECT id, partner_id, card_id, type FROM partner_webhook_events
        WHERE dispatched_at IS NULL
        ORDER BY id LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), marked AS (
        UPDATE partner_webhook_events AS e SET dispatched_at = :now
        FROM picked WHERE e.id = picked.id
    ), created AS (
        INSERT INTO partner_webhook_deliveries (event_id, endpoint_id, card_id, state,
                                                next_attempt_at, created_at)
        SELECT picked.id, ep.id, picked.card_id, 'pending', :now, :now
        FROM picked
        JOIN partner_webhook_endpoints AS ep
          ON ep.partner_id = picked.partner_id AND ep.deleted_at IS NULL
         AND picked.type = ANY (ep.event_types)
        ORDER BY picked.id, ep.id
        RETURNING endpoint_id, card_id
    )
    SELECT DISTINCT endpoint_id, card_id FROM created
    UNION ALL SELECT NULL, count(*) FROM picked
    """
)


def record_order_event(
    session: Session, *, order_id: int, state: str, event_type: str
) -> int | None:
    return session.execute(
        _RECORD_ORDER_EVENT, {"order_id": order_id, "state": state, "type": event_type}
    ).scalar()


def record_expiring(
    session: Session, *, hours: int, ends_after: datetime, ends_by: datetime, limit: int
) -> list[int]:
    rows = session.execute(
        _RECORD_EXPIRING,
        {
            "type": "card.expiring",
            "hours": hours,
            "ends_after": ends_after,
            "ends_by": ends_by,
            "limit": limit,
        },
    )
    return list(rows.scalars())


def dispatch(session: Session, *, now: datetime, limit: int) -> tuple[int, list[tuple[int, int]]]:
    """Create the deliveries of up to ``limit`` undispatched events; returns how many events
    were dispatched and the (endpoint, card) pairs that now have something to send."""
    picked = 0
    keys: list[tuple[int, int]] = []
    for endpoint_id, value in session.execute(_DISPATCH, {"now": now, "limit": limit}):
        if endpoint_id is None:
            picked = int(value)
        else:
            keys.append((int(endpoint_id), int(value)))
    return picked, keys


def any_undispatched(session: Session) -> bool:
    query = select(PartnerWebhookEvent.id).where(PartnerWebhookEvent.dispatched_at.is_(None))
    return session.execute(query.limit(1)).first() is not None


def due_keys(session: Session, *, now: datetime, limit: int) -> list[tuple[int, int]]:
    """(endpoint, card) pairs whose oldest pending delivery is due."""
    rows = session.execute(
        select(PartnerWebhookDelivery.endpoint_id, PartnerWebhookDelivery.card_id)
        .where(
            PartnerWebhookDelivery.state == WebhookDeliveryState.pending,
            PartnerWebhookDelivery.next_attempt_at <= now,
        )
        .distinct()
        .limit(limit)
    )
    return [(int(endpoint_id), int(card_id)) for endpoint_id, card_id in rows]


def oldest_pending(
    session: Session, *, endpoint_id: int, card_id: int
) -> PartnerWebhookDelivery | None:
    return session.scalars(
        select(PartnerWebhookDelivery)
        .where(
            PartnerWebhookDelivery.endpoint_id == endpoint_id,
            PartnerWebhookDelivery.card_id == card_id,
            PartnerWebhookDelivery.state == WebhookDeliveryState.pending,
        )
        .order_by(PartnerWebhookDelivery.id)
        .limit(1)
        .with_for_update()
    ).first()


def event(session: Session, event_id: int) -> PartnerWebhookEvent | None:
    return session.get(PartnerWebhookEvent, event_id)


def event_by_public_id(session: Session, public_id: str) -> PartnerWebhookEvent | None:
    return session.scalars(
        select(PartnerWebhookEvent).where(PartnerWebhookEvent.public_id == public_id)
    ).first()


def endpoint(session: Session, endpoint_id: int) -> PartnerWebhookEndpoint | None:
    return session.get(PartnerWebhookEndpoint, endpoint_id)


def live_endpoints(session: Session, partner_id: int) -> list[PartnerWebhookEndpoint]:
    return list(
        session.scalars(
            select(PartnerWebhookEndpoint)
            .where(
                PartnerWebhookEndpoint.partner_id == partner_id,
                PartnerWebhookEndpoint.deleted_at.is_(None),
            )
            .order_by(PartnerWebhookEndpoint.id)
        )
    )


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def cancel_pending(session: Session, endpoint_id: int) -> int:
    result = session.execute(
        update(PartnerWebhookDelivery)
        .where(
            PartnerWebhookDelivery.endpoint_id == endpoint_id,
            PartnerWebhookDelivery.state == WebhookDeliveryState.pending,
        )
        .values(state=WebhookDeliveryState.cancelled, next_attempt_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def next_attempt_number(session: Session, delivery_id: int) -> int:
    query = select(PartnerWebhookAttempt.number).where(
        PartnerWebhookAttempt.delivery_id == delivery_id
    )
    numbers = session.scalars(query.order_by(PartnerWebhookAttempt.number.desc()).limit(1))
    return int(numbers.first() or 0) + 1


# What an event's line in the delivery log says, from the newest delivery to each endpoint
# (a failure that a replay then delivered reads as delivered), the first of these found.
STATE_PRIORITY = (
    WebhookDeliveryState.pending,
    WebhookDeliveryState.failed,
    WebhookDeliveryState.delivered,
    WebhookDeliveryState.cancelled,
)
NO_DELIVERY = "none"


def _newest_delivery_in(states: Sequence[WebhookDeliveryState]) -> ColumnElement[bool]:
    """The event has an endpoint whose newest delivery of it is in one of ``states``."""
    latest, newer = aliased(PartnerWebhookDelivery), aliased(PartnerWebhookDelivery)
    return exists().where(
        latest.event_id == PartnerWebhookEvent.id,
        latest.state.in_(states),
        ~exists().where(
            newer.event_id == latest.event_id,
            newer.endpoint_id == latest.endpoint_id,
            newer.id > latest.id,
        ),
    )


def _in_state(state: str) -> ColumnElement[bool]:
    if state == NO_DELIVERY:
        return ~exists().where(PartnerWebhookDelivery.event_id == PartnerWebhookEvent.id)
    wanted = WebhookDeliveryState(state)
    outranking = STATE_PRIORITY[: STATE_PRIORITY.index(wanted)]
    condition = _newest_delivery_in([wanted])
    if outranking:
        condition = condition & ~_newest_delivery_in(outranking)
    return condition


def recent_events(
    session: Session,
    *,
    partner_id: int | None,
    event_type: str | None,
    limit: int,
    state: str | None = None,
    before_id: int | None = None,
) -> list[tuple[PartnerWebhookEvent, str]]:
    """Newest events first (those older than ``before_id``, when given), with their
    partner's name; ``state`` as :data:`STATE_PRIORITY` reads it, or :data:`NO_DELIVERY`."""
    query = (
        select(PartnerWebhookEvent, Partner.name)
        .join(Partner, Partner.id == PartnerWebhookEvent.partner_id)
        .order_by(PartnerWebhookEvent.id.desc())
        .limit(limit)
    )
    if partner_id is not None:
        query = query.where(PartnerWebhookEvent.partner_id == partner_id)
    if event_type is not None:
        query = query.where(PartnerWebhookEvent.type == event_type)
    if state is not None:
        query = query.where(_in_state(state))
    if before_id is not None:
        query = query.where(PartnerWebhookEvent.id < before_id)
    return [(row[0], row[1]) for row in session.execute(query)]


def lock_event(session: Session, event_id: int) -> PartnerWebhookEvent | None:
    """The event, locked until the transaction ends: replays of one event go one at a time."""
    return session.scalars(
        select(PartnerWebhookEvent)
        .where(PartnerWebhookEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def endpoints_with_pending(session: Session, event_id: int) -> set[int]:
    """The endpoints that still have a delivery of the event on its way."""
    rows = session.scalars(
        select(PartnerWebhookDelivery.endpoint_id).where(
            PartnerWebhookDelivery.event_id == event_id,
            PartnerWebhookDelivery.state == WebhookDeliveryState.pending,
        )
    )
    return {int(endpoint_id) for endpoint_id in rows}


def deliveries_of(session: Session, event_ids: Sequence[int]) -> list[PartnerWebhookDelivery]:
    if not event_ids:
        return []
    return list(
        session.scalars(
            select(PartnerWebhookDelivery)
            .where(PartnerWebhookDelivery.event_id.in_(event_ids))
            .order_by(PartnerWebhookDelivery.id)
        )
    )


def attempts_of(session: Session, delivery_ids: Sequence[int]) -> list[PartnerWebhookAttempt]:
    if not delivery_ids:
        return []
    return list(
        session.scalars(
            select(PartnerWebhookAttempt)
            .where(PartnerWebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(PartnerWebhookAttempt.delivery_id, PartnerWebhookAttempt.number)
        )
    )


def endpoints_by_id(
    session: Session, endpoint_ids: Sequence[int]
) -> dict[int, PartnerWebhookEndpoint]:
    if not endpoint_ids:
        return {}
    rows = session.scalars(
        select(PartnerWebhookEndpoint).where(PartnerWebhookEndpoint.id.in_(endpoint_ids))
    )
    return {row.id: row for row in rows}


def partners(session: Session) -> list[tuple[int, str]]:
    return [
        (int(pid), name)
        for pid, name in session.execute(select(Partner.id, Partner.name).order_by(Partner.name))
    ]
