from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.api.balance import balance_out
from tulpar.balance import service as balance_service
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.models import BundleState, CardState, LedgerCause, RenewalPolicy

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_reads_never_count_an_expired_bundle_even_before_the_job(session: Session) -> None:
    plan = create_plan(session, validity_days=7)
    with clock.frozen(NOW):
        card, bundle = create_active_card(session, plan=plan, days_ago=8)

        balance = balance_service.balance_of(session, card)

    assert bundle.state is BundleState.active  # stored state lags
    assert balance.state == "expired"
    assert balance.data_bytes.remaining == 0
    assert balance.bundles[0].state == "expired"


def test_the_job_expires_then_terminates_after_grace(session: Session) -> None:
    plan = create_plan(session, validity_days=7)
    with clock.frozen(NOW):
        card, bundle = create_active_card(session, plan=plan, days_ago=1)
    ends_at = bundle.expires_at

    first = lifecycle.run(session, now=ends_at + timedelta(seconds=1))
    assert (first.bundles_expired, first.cards_expired, first.cards_terminated) == (1, 1, 0)
    session.refresh(card)
    assert card.state is CardState.expired

    in_grace = lifecycle.run(session, now=ends_at + timedelta(days=29))
    assert in_grace.cards_terminated == 0

    after_grace = lifecycle.run(session, now=ends_at + timedelta(days=30))
    session.refresh(card)
    assert after_grace.cards_terminated == 1
    assert card.state is CardState.terminated


def test_running_twice_changes_nothing_the_second_time(session: Session) -> None:
    plan = create_plan(session, validity_days=7)
    with clock.frozen(NOW):
        create_active_card(session, plan=plan, days_ago=8)

    lifecycle.run(session, now=NOW)
    again = lifecycle.run(session, now=NOW)

    assert again == lifecycle.LifecycleCounts(0, 0, 0, 0)


def test_validity_is_shown_in_kazakhstan_local_time(session: Session) -> None:
    plan = create_plan(session, validity_days=7)
    with clock.frozen(NOW):
        card, _ = create_active_card(session, plan=plan)
        balance = balance_out(balance_service.balance_of(session, card))

    assert balance.validity_ends_at_local is not None
    assert balance.validity_ends_at_local.utcoffset() == timedelta(hours=5)
    assert balance.validity_ends_at_local.isoformat() == "2026-12-01T11:00:00+05:00"


def test_starting_a_queued_bundle_waits_for_its_card_like_rating_does(
    committed: sessionmaker[Session],
) -> None:
    """Cards before bundles, the order rating and renewals use: a job that moved allowance
    between a card's bundles without its card's lock could deadlock with rating."""
    with committed.begin() as session, clock.frozen(NOW):
        plan = create_plan(session, validity_days=7, rollover=True)
        queued_plan = create_plan(
            session, validity_days=7, rollover=True, renewal_policy=RenewalPolicy.queue
        )
        card, _ = create_active_card(session, plan=plan, days_ago=1)
        queued = bundle_service.apply_plan(session, card, queued_plan, cause=LedgerCause.order)
        card_id, queued_id, starts_at = card.id, queued.id, queued.starts_at
    assert queued.state is BundleState.scheduled

    with committed.begin() as holder:
        holder.execute(
            text("SELECT id FROM cards WHERE id = :id FOR NO KEY UPDATE"), {"id": card_id}
        )
        with committed() as job:
            job.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                lifecycle.run(job, now=starts_at)
            job.rollback()

    with committed.begin() as job:
        assert lifecycle.run(job, now=starts_at).bundles_started == 1
        state = job.execute(text("SELECT state FROM bundles WHERE id = :id"), {"id": queued_id})
        assert state.scalar_one() == "active"
