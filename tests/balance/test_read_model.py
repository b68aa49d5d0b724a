"""The one-statement balance read model gives exactly what the balance composed from the
bundle, catalog, wallet and rating services gave (seven queries), on cards in every state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, update
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.rating.records import add_bundle
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.balance import repository as balance_repository
from tulpar.balance import service as balance_service
from tulpar.balance.service import Allowance, BundleBalance, CardBalance
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import ALLOWANCE_KINDS, DATA, SMS, VOICE, AllowanceKind
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.db import driver_rows
from tulpar.models import (
    Bundle,
    BundleState,
    Card,
    CardState,
    LedgerCause,
    RenewalPolicy,
    UsageKind,
    Wallet,
)
from tulpar.money import Money
from tulpar.rating import service as rating_service
from tulpar.wallet import service as wallet_service

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
GB = 1024**3


# The balance as it was composed before the read model, kept here as the reference.
def _total(kind: AllowanceKind, bundles: list[Bundle]) -> Allowance:
    if any(kind.granted(bundle) is None for bundle in bundles):
        return Allowance(remaining=None, granted=None)
    return Allowance(
        remaining=sum(kind.remaining(bundle) or 0 for bundle in bundles),
        granted=sum(kind.granted(bundle) or 0 for bundle in bundles),
    )


def _bundle_state(bundle: Bundle, *, now: datetime) -> str:
    if bundle.state.value in ("active", "exhausted", "scheduled"):
        if bundle.expires_at <= now:
            return "expired"
        if bundle.state.value == "scheduled" and bundle.starts_at <= now:
            return "active"
    return bundle.state.value


def composed_balance(session: Session, card: Card) -> CardBalance:
    now = clock.now()
    state = card_service.effective_state(card, now=now)
    current = (
        bundle_service.valid_bundles(session, card, at=now) if state is CardState.active else []
    )
    plan_codes = catalog_service.codes_by_id(session)
    wallet = wallet_service.balance(session, card_id=card.id)
    data, voice, sms = (_total(kind, current) for kind in ALLOWANCE_KINDS)
    return CardBalance(
        iccid=card.iccid,
        msisdn=card.msisdn,
        language=card.language,
        state=state,
        validity_ends_at=card.validity_ends_at,
        data_bytes=data,
        voice_seconds=voice,
        sms_count=sms,
        wallet=wallet,
        bundles=[
            BundleBalance(
                id=bundle.id,
                plan_code=plan_codes.get(bundle.plan_id, "?"),
                state=_bundle_state(bundle, now=now),
                starts_at=bundle.starts_at,
                expires_at=bundle.expires_at,
                data_bytes=_total(DATA, [bundle]),
                voice_seconds=_total(VOICE, [bundle]),
                sms_count=_total(SMS, [bundle]),
            )
            for bundle in bundle_service.bundles_of(session, card)
        ],
        usage_as_of=rating_service.usage_as_of(session, card.id),
    )


def _use(session: Session, card: Card, quantity: int, at: datetime, *, kind: str = "data") -> None:
    rating_service.rate(
        session,
        [
            rating_service.UsageToRate(
                "sw1", f"{card.id}-{at.isoformat()}", card.id, UsageKind(kind), quantity, at
            )
        ],
    )


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The statements run meanwhile: SQLAlchemy's, and the read model's on the driver."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    def recorded_driver_rows(
        session: Session, sql: str, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        rows = driver_rows(session, sql, params)  # flushes first, as a query autoflushes
        seen.append(sql)
        return rows

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(balance_repository, "driver_rows", recorded_driver_rows)
            yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def assert_same(session: Session, card: Card) -> CardBalance:
    """Both paths agree, read as the notification does (a loaded card) and as the API does
    (by ICCID and by phone number)."""
    with statements(session) as seen:
        found = balance_service.balance_of(session, card)
    assert [s for s in seen if s.lstrip().startswith("SELECT")] == seen[-1:]  # one read
    expected = composed_balance(session, card)
    assert found == expected
    admin = auth_service.command_line()
    assert balance_service.balance_for(session, admin, card.iccid) == expected
    if card.msisdn is not None:
        assert balance_service.balance_for(session, admin, card.msisdn) == expected
    return found


@pytest.mark.usefixtures("frozen_now")
class TestCardsInEveryState:
    def test_an_active_card_with_usage(self, session: Session, frozen_now: datetime) -> None:
        card, _ = create_active_card(session, days_ago=2)
        _use(session, card, 300 * 1024**2, frozen_now - 3 * HOUR)
        _use(session, card, 60, frozen_now - HOUR, kind="voice")

        found = assert_same(session, card)

        assert found.usage_as_of == frozen_now - HOUR
        assert found.data_bytes.remaining == 5 * GB - 300 * 1024**2

    def test_an_expired_card_before_and_after_the_job(self, session: Session) -> None:
        card, _ = create_active_card(
            session, plan=create_plan(session, validity_days=7), days_ago=8
        )

        assert assert_same(session, card).state is CardState.expired
        lifecycle.run(session, now=clock.now())
        session.refresh(card)
        assert assert_same(session, card).bundles[0].state == "expired"

    def test_a_card_past_its_grace_period(self, session: Session) -> None:
        card, _ = create_active_card(
            session, plan=create_plan(session, validity_days=7), days_ago=40
        )

        assert assert_same(session, card).state is CardState.terminated

    def test_an_exhausted_bundle_with_overage(self, session: Session, frozen_now: datetime) -> None:
        card, _ = create_active_card(session, plan=create_plan(session, data_bytes=GB), days_ago=1)
        _use(session, card, 2 * GB, frozen_now - 2 * HOUR)

        found = assert_same(session, card)

        assert found.bundles[0].state == "exhausted"
        assert found.data_bytes == Allowance(remaining=0, granted=GB)
        assert found.usage_as_of == frozen_now - 2 * HOUR

    def test_overage_newer_than_any_bundle_use(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card, _ = create_active_card(session, plan=create_plan(session, sms_count=0), days_ago=1)
        _use(session, card, 100, frozen_now - 5 * HOUR)
        _use(session, card, 3, frozen_now - HOUR, kind="sms")  # no SMS allowance: overage

        assert assert_same(session, card).usage_as_of == frozen_now - HOUR

    def test_a_queued_renewal_and_one_whose_start_the_job_has_not_seen(
        self, session: Session
    ) -> None:
        queued = create_plan(session, validity_days=7, renewal_policy=RenewalPolicy.queue)
        card, _ = create_active_card(session, plan=queued, days_ago=2)
        bundle_service.apply_plan(session, card, queued, cause=LedgerCause.manual_credit)
        late, _ = create_active_card(session, plan=queued, days_ago=8)
        with clock.frozen(clock.now() - 8 * DAY):
            bundle_service.apply_plan(session, late, queued, cause=LedgerCause.manual_credit)

        assert [b.state for b in assert_same(session, card).bundles] == ["active", "scheduled"]
        assert [b.state for b in assert_same(session, late).bundles] == ["expired", "active"]

    def test_unlimited_allowances_and_a_bonus_bundle_beside_them(self, session: Session) -> None:
        unlimited = create_plan(session, data_bytes=None, voice_seconds=None)
        card, _ = create_active_card(session, plan=unlimited, days_ago=1)
        add_bundle(
            session,
            card,
            starts_at=clock.now() - HOUR,
            expires_at=clock.now() + DAY,
            data_bytes=GB,
            voice_seconds=600,
            sms_count=None,
        )

        found = assert_same(session, card)

        assert found.data_bytes == found.voice_seconds == found.sms_count == Allowance(None, None)
        assert len(found.bundles) == 2

    def test_a_renewal_that_revoked_the_bundle_before(self, session: Session) -> None:
        card, _ = create_active_card(session, days_ago=3)
        bundle_service.apply_plan(session, card, create_plan(session), cause=LedgerCause.order)

        assert [b.state for b in assert_same(session, card).bundles] == ["revoked", "active"]

    def test_money_in_the_wallet_and_no_wallet_row(self, session: Session) -> None:
        card, _ = create_active_card(session)
        wallet_service.move(
            session, card_id=card.id, amount=Money(1_500_00, "KZT"), cause=LedgerCause.refund
        )
        bare = create_card(session)
        session.execute(delete(Wallet).where(Wallet.card_id == bare.id))

        assert assert_same(session, card).wallet == Money(1_500_00, "KZT")
        assert assert_same(session, bare).wallet == Money(0, "KZT")

    def test_cards_without_bundles_and_suspended(self, session: Session) -> None:
        new = create_card(session, msisdn=None)
        suspended, _ = create_active_card(session)
        session.execute(
            update(Card).where(Card.id == suspended.id).values(state=CardState.suspended)
        )
        session.refresh(suspended)

        assert assert_same(session, new).bundles == []
        assert assert_same(session, suspended).data_bytes == Allowance(0, 0)

    def test_a_recycled_number_reads_the_card_the_card_service_finds(
        self, session: Session
    ) -> None:
        number = "+77019998877"
        first, _ = create_active_card(session, msisdn=number, days_ago=80)
        self._terminate(session, first)
        second, _ = create_active_card(session, msisdn=number, days_ago=40)
        self._terminate(session, second)
        admin = auth_service.command_line()

        # Only terminated cards hold it: the newest one.
        found = balance_service.balance_for(session, admin, number)
        assert found == composed_balance(session, card_service.find(session, number))
        assert found.iccid == second.iccid
        # A live card holds it again: the live one.
        live, _ = create_active_card(session, msisdn=number)
        found = balance_service.balance_for(session, admin, number)
        assert found == composed_balance(session, card_service.find(session, number))
        assert found.iccid == live.iccid

    @staticmethod
    def _terminate(session: Session, card: Card) -> None:
        session.execute(update(Card).where(Card.id == card.id).values(state=CardState.terminated))
        session.refresh(card)

    def test_bundles_starting_and_ending_at_this_very_moment(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card, first = create_active_card(session, days_ago=7)  # a 7-day plan: ends right now
        assert first.expires_at == frozen_now
        add_bundle(session, card, starts_at=frozen_now, expires_at=frozen_now + DAY, data_bytes=GB)
        card.validity_ends_at = frozen_now + DAY

        found = assert_same(session, card)

        assert [b.state for b in found.bundles] == ["expired", "active"]
        assert found.data_bytes == Allowance(remaining=GB, granted=GB)

    def test_changes_of_the_open_transaction_are_read(self, session: Session) -> None:
        card, bundle = create_active_card(session)
        bundle.data_bytes_remaining = 7  # not flushed yet, as in a renewal's confirmation SMS

        assert assert_same(session, card).data_bytes.remaining == 7


# Random bundles (states, windows, allowances, unlimited or not, last use) on a random card.
bundle_specs = st.tuples(
    st.sampled_from(list(BundleState)),
    st.integers(-60, 30),  # starts, hours from now
    st.integers(1, 90),  # hours long
    st.tuples(*[st.one_of(st.none(), st.integers(0, 1000))] * 3),  # granted data, voice, sms
    st.integers(0, 100),  # percent remaining
    st.one_of(st.none(), st.integers(-60, 0)),  # last use, hours from now
)
card_specs = st.tuples(
    st.sampled_from(list(CardState)),
    st.one_of(st.none(), st.integers(-24 * 40, 24 * 10)),  # validity end, hours from now
    st.one_of(st.none(), st.integers(-60, 0)),  # newest overage, hours from now
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(card_spec=card_specs, specs=st.lists(bundle_specs, max_size=4))
def test_random_cards_read_the_same_both_ways(
    session: Session, frozen_now: datetime, card_spec: tuple[Any, ...], specs: list[tuple[Any, ...]]
) -> None:
    savepoint = session.begin_nested()
    try:
        state, ends_in, overage_in = card_spec
        card = create_card(session, state=state)
        card.validity_ends_at = None if ends_in is None else frozen_now + ends_in * HOUR
        plan = create_plan(session)
        for bundle_state, starts_in, hours, granted, percent, used_in in specs:
            remaining = [None if g is None else g * percent // 100 for g in granted]
            session.add(
                Bundle(
                    card_id=card.id,
                    plan_id=plan.id,
                    state=bundle_state,
                    starts_at=frozen_now + starts_in * HOUR,
                    expires_at=frozen_now + (starts_in + hours) * HOUR,
                    data_bytes_granted=granted[0],
                    data_bytes_remaining=remaining[0],
                    voice_seconds_granted=granted[1],
                    voice_seconds_remaining=remaining[1],
                    sms_count_granted=granted[2],
                    sms_count_remaining=remaining[2],
                    last_usage_at=None if used_in is None else frozen_now + used_in * HOUR,
                )
            )
        if overage_in is not None:
            _use(session, card, 5, frozen_now + overage_in * HOUR, kind="sms")
        session.flush()

        assert_same(session, card)
    finally:
        savepoint.rollback()
        session.expire_all()
