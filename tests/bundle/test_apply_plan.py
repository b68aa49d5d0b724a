"""Applying a plan follows the plan's renewal policy exactly (DESIGN.md §2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import DATA
from tulpar.errors import CardSuspendedError, CardTerminatedError
from tulpar.kit.format import GB
from tulpar.ledger import service as ledger
from tulpar.models import (
    Bundle,
    BundleState,
    Card,
    CardState,
    LedgerCause,
    LedgerEntry,
    Plan,
    RenewalPolicy,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _apply(session: Session, card: Card, plan: Plan) -> Bundle:
    return bundle_service.apply_plan(
        session, card, plan, cause=LedgerCause.order, actor="test", reason="test"
    )


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Bundle)) or 0,
        session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
    )


@pytest.fixture(autouse=True)
def _pinned_clock() -> object:
    with clock.frozen(NOW):
        yield


class TestExtend:
    def test_a_new_card_becomes_active_with_validity_from_now(self, session: Session) -> None:
        card = create_card(session)
        plan = create_plan(session, validity_days=15, data_bytes=10 * GB)

        bundle = _apply(session, card, plan)

        assert (bundle.state, bundle.starts_at, bundle.expires_at) == (
            BundleState.active,
            NOW,
            NOW + timedelta(days=15),
        )
        assert bundle.data_bytes_remaining == 10 * GB
        assert card.state is CardState.active
        assert card.validity_ends_at == NOW + timedelta(days=15)

    def test_an_active_card_keeps_its_remaining_days(self, session: Session) -> None:
        plan = create_plan(session, validity_days=7)
        card, _ = create_active_card(session, plan=plan, days_ago=2)  # 5 days left

        second = _apply(session, card, plan)

        assert second.starts_at == NOW
        assert second.expires_at == NOW + timedelta(days=5) + timedelta(days=7)
        assert card.validity_ends_at == second.expires_at

    def test_the_replaced_bundle_is_revoked_and_its_allowance_forfeited(
        self, session: Session
    ) -> None:
        plan = create_plan(session, validity_days=7, data_bytes=5 * GB, rollover=False)
        card, first = create_active_card(session, plan=plan, days_ago=2)
        bundle_service.adjust(
            session, first, DATA, delta=-2 * GB, cause=LedgerCause.usage, actor="t", reason="t"
        )

        second = _apply(session, card, plan)

        assert first.state is BundleState.revoked
        assert first.data_bytes_remaining == 0
        assert second.data_bytes_remaining == 5 * GB
        forfeited = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.bundle_id == first.id, LedgerEntry.cause == LedgerCause.replacement
            )
        ).all()
        assert [(e.account.value, e.delta, e.balance_before) for e in forfeited] == [
            ("data", -3 * GB, 3 * GB),
            ("voice", -3600, 3600),
            ("sms", -50, 50),
        ]
        assert ledger.reconcile(session, card_id=card.id) == []

    def test_rollover_carries_the_unused_allowance(self, session: Session) -> None:
        plan = create_plan(session, validity_days=30, data_bytes=20 * GB, rollover=True)
        card, first = create_active_card(session, plan=plan, days_ago=10)
        bundle_service.adjust(
            session, first, DATA, delta=-15 * GB, cause=LedgerCause.usage, actor="t", reason="t"
        )

        second = _apply(session, card, plan)

        assert second.data_bytes_remaining == 20 * GB + 5 * GB
        assert second.data_bytes_granted == 20 * GB
        assert first.data_bytes_remaining == 0
        assert second.voice_seconds_remaining == 2 * 3600
        assert second.expires_at == NOW + timedelta(days=20 + 30)
        assert ledger.reconcile(session, card_id=card.id) == []

    def test_rollover_into_an_unlimited_plan_carries_nothing_for_that_allowance(
        self, session: Session
    ) -> None:
        limited = create_plan(session, data_bytes=5 * GB)
        unlimited = create_plan(session, data_bytes=None, rollover=True)
        card, _ = create_active_card(session, plan=limited, days_ago=1)

        second = _apply(session, card, unlimited)

        assert second.data_bytes_remaining is None
        assert second.data_bytes_granted is None
        assert second.voice_seconds_remaining == 2 * 3600  # voice is finite: carried
        assert ledger.reconcile(session, card_id=card.id) == []

    def test_an_expired_card_in_grace_restarts_from_now(self, session: Session) -> None:
        plan = create_plan(session, validity_days=7)
        card, old = create_active_card(session, plan=plan, days_ago=12)  # ended 5 days ago
        lifecycle.run(session, now=NOW)
        assert card.state is CardState.expired

        bundle = _apply(session, card, plan)

        assert bundle.starts_at == NOW
        assert bundle.expires_at == NOW + timedelta(days=7)
        assert card.state is CardState.active
        assert old.state is BundleState.expired  # not revoked: it had already ended


class TestQueue:
    def test_queues_after_the_current_validity(self, session: Session) -> None:
        extend_plan = create_plan(session, validity_days=7)
        queued_plan = create_plan(
            session, validity_days=30, data_bytes=None, renewal_policy=RenewalPolicy.queue
        )
        card, current = create_active_card(session, plan=extend_plan, days_ago=3)

        queued = _apply(session, card, queued_plan)

        assert queued.state is BundleState.scheduled
        assert queued.starts_at == current.expires_at
        assert queued.expires_at == current.expires_at + timedelta(days=30)
        assert current.state is BundleState.active  # untouched
        assert card.validity_ends_at == queued.expires_at

    def test_queue_on_a_card_without_validity_starts_now(self, session: Session) -> None:
        plan = create_plan(session, validity_days=30, renewal_policy=RenewalPolicy.queue)
        card = create_card(session)

        bundle = _apply(session, card, plan)

        assert (bundle.state, bundle.starts_at) == (BundleState.active, NOW)

    def test_the_queued_bundle_starts_when_the_current_one_ends_with_rollover(
        self, session: Session
    ) -> None:
        extend_plan = create_plan(session, validity_days=7, data_bytes=5 * GB)
        queued_plan = create_plan(
            session,
            validity_days=30,
            data_bytes=10 * GB,
            renewal_policy=RenewalPolicy.queue,
            rollover=True,
        )
        card, current = create_active_card(session, plan=extend_plan, days_ago=3)
        bundle_service.adjust(
            session, current, DATA, delta=-1 * GB, cause=LedgerCause.usage, actor="t", reason="t"
        )
        queued = _apply(session, card, queued_plan)

        later = current.expires_at + timedelta(minutes=1)
        counts = lifecycle.run(session, now=later)

        assert (counts.bundles_started, counts.bundles_expired) == (1, 1)
        assert queued.state is BundleState.active
        assert queued.data_bytes_remaining == 10 * GB + 4 * GB
        assert current.state is BundleState.expired
        assert card.state is CardState.active
        assert ledger.reconcile(session, card_id=card.id) == []


class TestRefusals:
    def test_a_terminated_card_is_refused_and_nothing_changes(self, session: Session) -> None:
        plan = create_plan(session)
        card = create_card(session, state=CardState.terminated)
        before = _counts(session)

        with pytest.raises(CardTerminatedError, match="grace period"):
            _apply(session, card, plan)

        assert _counts(session) == before
        assert card.state is CardState.terminated

    def test_a_card_past_grace_is_refused_even_before_the_job_runs(self, session: Session) -> None:
        plan = create_plan(session, validity_days=7)
        card, _ = create_active_card(session, plan=plan, days_ago=7 + 31)
        assert card.state is CardState.active  # the lifecycle job has not run
        before = _counts(session)

        with pytest.raises(CardTerminatedError):
            _apply(session, card, plan)

        assert _counts(session) == before

    def test_a_suspended_card_is_refused(self, session: Session) -> None:
        plan = create_plan(session)
        card = create_card(session, state=CardState.suspended)
        before = _counts(session)

        with pytest.raises(CardSuspendedError):
            _apply(session, card, plan)

        assert _counts(session) == before
