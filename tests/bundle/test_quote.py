"""The quote states what a renewal does, and applying the plan does exactly that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import DATA, SMS, VOICE, AllowanceKind
from tulpar.bundle.policy import Allowances
from tulpar.kit.format import GB
from tulpar.ledger import service as ledger
from tulpar.models import (
    Bundle,
    BundleState,
    Card,
    LedgerCause,
    LedgerEntry,
    Plan,
    RenewalPolicy,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
SIX_AND_A_HALF_GB = 13 * GB // 2


@pytest.fixture(autouse=True)
def _pinned_clock() -> object:
    with clock.frozen(NOW):
        yield


def _apply(session: Session, card: Card, plan: Plan) -> Bundle:
    return bundle_service.apply_plan(
        session, card, plan, cause=LedgerCause.order, actor="test", reason="test"
    )


def _use(session: Session, bundle: Bundle, kind: AllowanceKind, amount: int) -> None:
    bundle_service.adjust(
        session, bundle, kind, delta=-amount, cause=LedgerCause.usage, actor="t", reason="t"
    )


def _entries(session: Session, bundle: Bundle, *causes: LedgerCause) -> list[tuple[str, int, int]]:
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.bundle_id == bundle.id, LedgerEntry.cause.in_(causes))
        .order_by(LedgerEntry.id)
    )
    return [(e.account.value, e.delta, e.balance_before) for e in session.scalars(query)]


def _fifteen_day_plan(session: Session, *, rollover: bool) -> Plan:
    return create_plan(
        session,
        validity_days=15,
        data_bytes=10 * GB,
        voice_seconds=3600,
        sms_count=50,
        rollover=rollover,
    )


def _card_with_six_and_a_half_gb_left(session: Session) -> tuple[Card, Bundle]:
    card, running = create_active_card(
        session, plan=_fifteen_day_plan(session, rollover=True), days_ago=3
    )
    _use(session, running, DATA, 10 * GB - SIX_AND_A_HALF_GB)
    _use(session, running, VOICE, 600)
    _use(session, running, SMS, 8)
    return card, running


class TestEarlyRenewalWithRollover:
    def test_the_quote_states_the_carry_over_and_the_new_validity_end(
        self, session: Session
    ) -> None:
        card, running = _card_with_six_and_a_half_gb_left(session)
        plan = _fifteen_day_plan(session, rollover=True)

        quoted = bundle_service.quote(session, card, plan)

        assert quoted.policy is RenewalPolicy.extend
        assert (quoted.starts_at, quoted.expires_at) == (NOW, NOW + timedelta(days=12 + 15))
        assert quoted.validity_ends_at == NOW + timedelta(days=12 + 15)
        assert quoted.carried_over == Allowances(SIX_AND_A_HALF_GB, 3000, 42)
        assert quoted.forfeited == Allowances(0, 0, 0)
        assert quoted.replaces == (running.id,)

    def test_the_remainder_is_merged_into_one_bundle_recorded_on_both_sides(
        self, session: Session
    ) -> None:
        card, running = _card_with_six_and_a_half_gb_left(session)
        plan = _fifteen_day_plan(session, rollover=True)
        quoted = bundle_service.quote(session, card, plan)

        renewed = _apply(session, card, plan)

        assert bundle_service.valid_bundles(session, card) == [renewed]
        assert renewed.data_bytes_remaining == 10 * GB + SIX_AND_A_HALF_GB
        assert (renewed.voice_seconds_remaining, renewed.sms_count_remaining) == (3600 + 3000, 92)
        assert renewed.data_bytes_granted == 10 * GB
        assert (renewed.starts_at, renewed.expires_at) == (quoted.starts_at, quoted.expires_at)
        assert card.validity_ends_at == quoted.validity_ends_at
        assert (running.state, running.data_bytes_remaining) == (BundleState.revoked, 0)
        assert _entries(session, running, LedgerCause.rollover, LedgerCause.replacement) == [
            ("data", -SIX_AND_A_HALF_GB, SIX_AND_A_HALF_GB),
            ("voice", -3000, 3000),
            ("sms", -42, 42),
        ]
        assert _entries(session, renewed, LedgerCause.order, LedgerCause.rollover) == [
            ("data", 10 * GB, 0),
            ("voice", 3600, 0),
            ("sms", 50, 0),
            ("data", SIX_AND_A_HALF_GB, 10 * GB),
            ("voice", 3000, 3600),
            ("sms", 42, 50),
        ]
        assert ledger.reconcile(session, card_id=card.id) == []


class TestWithoutRollover:
    def test_the_quote_states_the_forfeit_and_applying_forfeits_exactly_that(
        self, session: Session
    ) -> None:
        card, running = _card_with_six_and_a_half_gb_left(session)
        plan = _fifteen_day_plan(session, rollover=False)

        quoted = bundle_service.quote(session, card, plan)
        renewed = _apply(session, card, plan)

        assert quoted.carried_over == Allowances(0, 0, 0)
        assert quoted.forfeited == Allowances(SIX_AND_A_HALF_GB, 3000, 42)
        assert _entries(session, running, LedgerCause.replacement) == [
            ("data", -SIX_AND_A_HALF_GB, SIX_AND_A_HALF_GB),
            ("voice", -3000, 3000),
            ("sms", -42, 42),
        ]
        assert _entries(session, renewed, LedgerCause.rollover) == []
        assert renewed.data_bytes_remaining == 10 * GB
        assert ledger.reconcile(session, card_id=card.id) == []

    def test_giving_up_an_unlimited_allowance_is_stated_as_such(self, session: Session) -> None:
        unlimited = create_plan(session, data_bytes=None)
        card, _ = create_active_card(session, plan=unlimited, days_ago=1)
        limited = create_plan(session, data_bytes=5 * GB, rollover=True)

        quoted = bundle_service.quote(session, card, limited)

        assert quoted.forfeited == Allowances(data_bytes=None, voice_seconds=0, sms_count=0)
        assert quoted.carried_over == Allowances(0, 3600, 50)


class TestIntoUnlimited:
    def test_a_finite_remainder_is_neither_carried_nor_forfeited(self, session: Session) -> None:
        card, running = create_active_card(session, plan=create_plan(session), days_ago=1)
        unlimited = create_plan(session, data_bytes=None, rollover=True)

        quoted = bundle_service.quote(session, card, unlimited)
        renewed = _apply(session, card, unlimited)

        assert quoted.carried_over == Allowances(0, 3600, 50)
        assert quoted.forfeited == Allowances(0, 0, 0)
        assert renewed.data_bytes_remaining is None
        assert running.data_bytes_remaining == 0
        assert ledger.reconcile(session, card_id=card.id) == []


class TestQueue:
    def test_the_quote_starts_when_the_validity_ends_and_replaces_nothing(
        self, session: Session
    ) -> None:
        card, running = _card_with_six_and_a_half_gb_left(session)
        plan = create_plan(
            session, validity_days=30, data_bytes=None, renewal_policy=RenewalPolicy.queue
        )

        quoted = bundle_service.quote(session, card, plan)
        queued = _apply(session, card, plan)

        assert (quoted.starts_at, quoted.expires_at) == (
            running.expires_at,
            running.expires_at + timedelta(days=30),
        )
        assert (queued.starts_at, queued.expires_at) == (quoted.starts_at, quoted.expires_at)
        assert queued.state is BundleState.scheduled
        assert quoted.replaces == ()
        assert quoted.carried_over == Allowances(0, 0, 0)  # no rollover: nothing moves
        assert quoted.forfeited == Allowances(0, 0, 0)  # the running bundle runs its course
        assert running.state is BundleState.active

    def test_with_rollover_the_quoted_carry_over_moves_when_it_starts(
        self, session: Session
    ) -> None:
        card, _ = _card_with_six_and_a_half_gb_left(session)
        plan = create_plan(
            session,
            validity_days=30,
            data_bytes=10 * GB,
            renewal_policy=RenewalPolicy.queue,
            rollover=True,
        )

        quoted = bundle_service.quote(session, card, plan)
        queued = _apply(session, card, plan)
        lifecycle.run(session, now=queued.starts_at)

        assert quoted.carried_over == Allowances(SIX_AND_A_HALF_GB, 3000, 42)
        assert queued.state is BundleState.active
        assert queued.data_bytes_remaining == 10 * GB + SIX_AND_A_HALF_GB
        assert (queued.voice_seconds_remaining, queued.sms_count_remaining) == (3600 + 3000, 92)
        assert bundle_service.valid_bundles(session, card, at=queued.starts_at) == [queued]
        assert ledger.reconcile(session, card_id=card.id) == []


class TestWindowFormula:
    """The window the carrier is sent: ``current_end = max(now, validity end)``; extend starts
    now, queue at ``current_end``; both end at ``current_end + plan days``."""

    @pytest.mark.parametrize("policy", list(RenewalPolicy))
    @pytest.mark.parametrize("days_ago", [None, 2.0, 30.0])
    def test_matches_for_both_policies(
        self, session: Session, policy: RenewalPolicy, days_ago: float | None
    ) -> None:
        plan = create_plan(session, validity_days=7, renewal_policy=policy)
        if days_ago is None:
            card = create_card(session)
        else:
            card, _ = create_active_card(session, plan=create_plan(session), days_ago=days_ago)
        current_end = max(NOW, card.validity_ends_at or NOW)

        quoted = bundle_service.quote(session, card, plan)

        expected_start = NOW if policy is RenewalPolicy.extend else current_end
        assert (quoted.starts_at, quoted.expires_at) == (
            expected_start,
            current_end + timedelta(days=7),
        )
