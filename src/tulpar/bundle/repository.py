from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import Session

from tulpar.models import Bundle, BundleState, Plan

LIVE_STATES = (BundleState.scheduled, BundleState.active, BundleState.exhausted)


def _valid_at(at: datetime) -> Select[Bundle]:
    return select(Bundle).where(
        Bundle.state.in_(LIVE_STATES), Bundle.starts_at <= at, Bundle.expires_at > at
    )


def valid_at(session: Session, card_id: int, *, at: datetime) -> list[Bundle]:
    """Bundles that count at ``at``, soonest-expiring first (whether or not a job ran)."""
    query = _valid_at(at).where(Bundle.card_id == card_id).order_by(Bundle.expires_at, Bundle.id)
    return list(session.scalars(query))


def _not_ended(card_id: int, at: datetime) -> Select[Bundle]:
    return (
        select(Bundle)
        .where(Bundle.card_id == card_id, Bundle.state.in_(LIVE_STATES), Bundle.expires_at > at)
        .order_by(Bundle.id)
    )


def not_ended(session: Session, card_id: int, *, at: datetime) -> list[Bundle]:
    """The card's bundles still running or yet to start at ``at``: what a renewal acts on."""
    return list(session.scalars(_not_ended(card_id, at)))


def not_ended_for_update(session: Session, card_id: int, *, at: datetime) -> list[Bundle]:
    return list(session.scalars(_not_ended(card_id, at).with_for_update()))


def for_card(session: Session, card_id: int) -> list[Bundle]:
    query = select(Bundle).where(Bundle.card_id == card_id).order_by(Bundle.starts_at, Bundle.id)
    return list(session.scalars(query))


def add(session: Session, bundle: Bundle) -> Bundle:
    session.add(bundle)
    session.flush()
    return bundle


def expire_ended(session: Session, *, now: datetime) -> int:
    ended = (
        Bundle.state.in_((BundleState.active, BundleState.exhausted)),
        Bundle.expires_at <= now,
    )
    # Locked in primary-key order, like rating does, so the two cannot deadlock.
    due = select(Bundle.id).where(*ended).order_by(Bundle.id).with_for_update().scalar_subquery()
    result = session.execute(
        update(Bundle).where(Bundle.id.in_(due), *ended).values(state=BundleState.expired)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def cards_with_bundles_due_to_start(session: Session, *, now: datetime) -> list[int]:
    query = select(Bundle.card_id).where(
        Bundle.state == BundleState.scheduled, Bundle.starts_at <= now
    )
    return sorted(set(session.scalars(query)))


def due_to_start_for_update(session: Session, *, now: datetime) -> list[tuple[Bundle, Plan]]:
    query = (
        select(Bundle, Plan)
        .join(Plan, Plan.id == Bundle.plan_id)
        .where(Bundle.state == BundleState.scheduled, Bundle.starts_at <= now)
        .order_by(Bundle.id)
        .with_for_update(of=Bundle, skip_locked=True)
    )
    return [(bundle, plan) for bundle, plan in session.execute(query)]


def ended_at_for_update(session: Session, card_id: int, *, ended_at: datetime) -> list[Bundle]:
    """Bundles of the card whose window closed exactly when a queued one starts."""
    query = (
        select(Bundle)
        .where(
            and_(
                Bundle.card_id == card_id,
                Bundle.expires_at == ended_at,
                Bundle.state.in_((BundleState.active, BundleState.exhausted, BundleState.expired)),
            )
        )
        .order_by(Bundle.id)
        .with_for_update()
    )
    return list(session.scalars(query))
