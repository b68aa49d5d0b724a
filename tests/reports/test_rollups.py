"""Settled days stay exact: a late write on a settled day (a refund weeks later, a payment
after midnight, a delivery report, a renewal in the grace period, a reminder recorded late)
shows at once, read live until settling recomputes the day; settling twice changes nothing;
new days wait for transactions that may not have seen the marking horizon move."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, create_plan
from tests.reports.builders import order, refund, sms
from tests.reports.conftest import settle_at
from tests.support_console.conftest import staff
from tulpar.models import (
    Bundle,
    BundleState,
    Notification,
    NotificationState,
    OrderEvent,
    OrderState,
    Payment,
    PaymentProviderName,
    PaymentState,
)
from tulpar.reports import failures, promotions, renewals, revenue, service, settlement
from tulpar.reports import sms as sms_report
from tulpar.reports.failures import FailureFigures, FailureRow
from tulpar.reports.period import Period
from tulpar.reports.renewals import RenewalFigures
from tulpar.reports.revenue import RevenueFigures
from tulpar.reports.sms import SmsFigures
from tulpar.reports.statement import execute, period_values

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2))
# Noon local (UTC+5) on 11-03: 11-01 and 11-02 have ended and are settled.
SETTLED_AT = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
ROLLUP_TABLES = (
    "report_revenue_days",
    "report_renewal_days",
    "report_failure_days",
    "report_promotion_days",
    "report_sms_days",
)


def _utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _marks(session: Session) -> list[tuple[str, datetime]]:
    rows = session.execute(text("SELECT report, moment FROM report_dirty_days ORDER BY id"))
    return [(row.report, row.moment) for row in rows]


def _rollups(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: sorted(
            (tuple(row) for row in session.execute(text(f"SELECT * FROM {table}"))),
            key=repr,
        )
        for table in ROLLUP_TABLES
    }


def _settle_again(session: Session) -> settlement.Settled:
    return settle_at(session, SETTLED_AT + timedelta(hours=1))


def test_a_late_refund_and_a_payment_after_midnight_change_a_settled_day_exactly(
    session: Session,
) -> None:
    card = create_card(session).id
    plan = create_plan(session, code="ROLL-7D").id
    completed = order(session, card_id=card, at=_utc(1, 5), amount_minor=100000, plan_id=plan)
    # Placed at 23:50 local on 11-01, still unpaid when the day is settled.
    unpaid = order(
        session,
        card_id=card,
        at=_utc(1, 18, 50),
        amount_minor=50000,
        state="awaiting_payment",
        paid=False,
    )
    assert settle_at(session, SETTLED_AT).settled_through == date(2026, 11, 2)
    before = service.revenue_report(session, staff("support"), PERIOD)
    assert before.totals == {"KZT": RevenueFigures(1, 100000, 0)}
    assert _marks(session) == []

    # Weeks later: part of the completed order goes back, and the order refunded in full
    # moves into ``refunded`` with support's reason.
    refund(session, completed, 30000)
    completed.state = OrderState.refunded
    session.add(
        OrderEvent(
            order_id=completed.id,
            card_id=card,
            from_state=OrderState.completed,
            to_state=OrderState.refunded,
            actor="support",
            reason="support: charged twice",
            details={},
            occurred_at=_utc(20, 9),
        )
    )
    # The payment of the order placed before midnight lands at 00:10 on 11-02.
    payment = Payment(
        order_id=unpaid.id,
        card_id=card,
        attempt=1,
        provider=PaymentProviderName.sandbox,
        state=PaymentState.succeeded,
        idempotency_key="rollup-late-payment",
        amount_minor=50000,
        currency="KZT",
        succeeded_at=_utc(1, 19, 10),
        checked_at=_utc(1, 19, 10),
    )
    session.add(payment)
    session.flush()
    unpaid.paid_payment_id = payment.id
    unpaid.state = OrderState.paid
    session.flush()

    assert {report for report, _ in _marks(session)} == {"revenue", "failures"}
    assert all(moment < _utc(1, 19) for _, moment in _marks(session))  # on 11-01 local
    for reading in ("dirty, read live", "settled again"):
        revenue = service.revenue_report(session, staff("support"), PERIOD)
        assert revenue.totals == {"KZT": RevenueFigures(2, 150000, 30000)}, reading
        assert revenue.by_day["KZT"] == [
            (date(2026, 11, 1), RevenueFigures(2, 150000, 30000)),
            (date(2026, 11, 2), RevenueFigures()),
        ], reading
        failures = service.failure_report(session, staff("support"), PERIOD)
        assert failures.rows == [
            FailureRow(
                "refunded", "support: charged twice", "KZT", FailureFigures(1, 100000, 30000)
            ),
            FailureRow("refunded", None, "KZT", FailureFigures(1, 100000, 30000)),
        ], reading
        if reading == "dirty, read live":
            result = _settle_again(session)
            assert result.new_days == 0
            assert result.dirty_days == {"revenue": 1, "failures": 1}
            assert _marks(session) == []
    rollup = session.execute(
        text("SELECT orders, gross_minor, refunded_minor FROM report_revenue_days")
    ).all()
    assert sorted(tuple(row) for row in rollup) == [(1, 50000, 0), (1, 100000, 30000)]


def test_a_late_delivery_report_changes_a_settled_day_exactly(session: Session) -> None:
    card = create_card(session).id
    sms(session, card, template="order_confirmation", at=_utc(1, 10))
    sms(session, card, template="order_confirmation", at=_utc(2, 10))
    settle_at(session, SETTLED_AT)
    assert service.sms_report(session, staff("support"), PERIOD).total == SmsFigures(
        messages=2, segments=2, sent=2, delivered=0, failed=0, queued=0
    )

    first = session.query(Notification).filter_by(created_at=_utc(1, 10)).one()
    first.state = NotificationState.delivered
    first.delivery_reported_at = _utc(4, 10)
    session.flush()

    assert _marks(session) == [("sms", _utc(1, 10))]
    for reading in ("dirty, read live", "settled again"):
        report = service.sms_report(session, staff("support"), PERIOD)
        assert report.by_day == [
            (date(2026, 11, 1), SmsFigures(1, 1, 1, 1, 0, 0)),
            (date(2026, 11, 2), SmsFigures(1, 1, 1, 0, 0, 0)),
        ], reading
        assert report.by_provider == [("smpp", SmsFigures(2, 2, 2, 1, 0, 0))], reading
        if reading == "dirty, read live":
            assert _settle_again(session).dirty_days == {"sms": 1}


def _bundle(
    session: Session, card_id: int, plan_id: int, *, replaced: datetime, at: datetime
) -> None:
    placed = order(session, card_id=card_id, at=at, amount_minor=350000, plan_id=plan_id)
    session.add(
        Bundle(
            card_id=card_id,
            plan_id=plan_id,
            order_id=placed.id,
            state=BundleState.active,
            starts_at=at,
            expires_at=at + timedelta(days=30),
            replaced_validity_ends_at=replaced,
            created_at=at + timedelta(hours=1),
        )
    )
    session.flush()


def test_a_renewal_in_the_grace_period_turns_a_settled_end_renewed(session: Session) -> None:
    plan = create_plan(session).id
    card = create_card(session)
    card.validity_ends_at = _utc(1, 12)  # 11-01 local, not renewed when settled
    session.flush()
    sms(session, card.id, template="reminder_expiry", at=_utc(4, 6))
    settle_at(session, SETTLED_AT)
    report = service.renewal_report(session, staff("support"), PERIOD)
    assert report.total == RenewalFigures(1, 0, 0, 0, 0)

    # On 11-05 the traveller renews, a day after a reminder: the card's end moves on, the
    # bundle records the end it replaced.
    _bundle(session, card.id, plan, replaced=_utc(1, 12), at=_utc(5, 4))
    card.validity_ends_at = _utc(5, 4) + timedelta(days=30)
    session.flush()

    # The order is placed today, after the horizon: only the validity end is marked (by the
    # bundle that replaced it, and by the card's end moving off it).
    assert set(_marks(session)) == {("renewals", _utc(1, 12))}
    for reading in ("dirty, read live", "settled again"):
        report = service.renewal_report(session, staff("support"), PERIOD)
        assert report.by_day == [
            (date(2026, 11, 1), RenewalFigures(1, 1, 0, 1, 1)),
            (date(2026, 11, 2), RenewalFigures()),
        ], reading
        if reading == "dirty, read live":
            assert _settle_again(session).dirty_days == {"renewals": 1}


def test_a_reminder_recorded_sent_after_the_renewal_counts_for_the_settled_end(
    session: Session,
) -> None:
    plan = create_plan(session).id
    card = create_card(session)
    card.validity_ends_at = _utc(30, 0)
    session.flush()
    _bundle(session, card.id, plan, replaced=_utc(1, 12), at=_utc(2, 4))  # 11-01's end
    sms(session, card.id, template="reminder_expiry", at=_utc(1, 6), sent=False)
    settle_at(session, SETTLED_AT)
    assert service.renewal_report(session, staff("support"), PERIOD).total == RenewalFigures(
        1, 1, 0, 1, 0
    )

    reminder = session.query(Notification).filter_by(template="reminder_expiry").one()
    reminder.state = NotificationState.sent
    reminder.provider = "smpp"
    reminder.sent_at = _utc(1, 7)  # handed over before the renewal, recorded late
    session.flush()

    assert ("renewals", _utc(1, 12)) in _marks(session)
    for reading in ("dirty, read live", "settled again"):
        assert service.renewal_report(session, staff("support"), PERIOD).total == (
            RenewalFigures(1, 1, 0, 1, 1)
        ), reading
        if reading == "dirty, read live":
            _settle_again(session)


def test_settling_twice_changes_nothing(session: Session) -> None:
    card = create_card(session).id
    order(session, card_id=card, at=_utc(1, 5), amount_minor=100000)
    order(session, card_id=card, at=_utc(2, 5), amount_minor=700, currency="USD")
    order(session, card_id=card, at=_utc(2, 6), amount_minor=900, state="expired", paid=False)
    sms(session, card, template="order_confirmation", at=_utc(2, 6))
    first = settle_at(session, SETTLED_AT)
    assert first.settled_through == date(2026, 11, 2)
    rollups = _rollups(session)
    assert rollups["report_revenue_days"] != []
    assert rollups["report_failure_days"] != []
    assert rollups["report_sms_days"] != []

    again = _settle_again(session)

    assert again == settlement.Settled(date(2026, 11, 2))
    assert _rollups(session) == rollups


def test_writes_after_the_horizon_and_before_any_settling_mark_nothing(session: Session) -> None:
    card = create_card(session).id
    order(session, card_id=card, at=_utc(1, 5), amount_minor=100000)
    sms(session, card, template="order_confirmation", at=_utc(1, 5))
    assert _marks(session) == []  # nothing settled yet: no horizon
    settle_at(session, SETTLED_AT)
    # Today (11-03 local) is after the horizon: the hot path writes no mark.
    today = order(session, card_id=card, at=_utc(3, 6), amount_minor=100000)
    refund(session, today, 100)
    sms(session, card, template="order_confirmation", at=_utc(3, 6))
    assert _marks(session) == []


def test_new_days_wait_for_a_transaction_older_than_the_horizon(
    session: Session, engine: Engine
) -> None:
    card = create_card(session).id
    order(session, card_id=card, at=_utc(1, 5), amount_minor=100000)
    with engine.connect() as older:
        older.execute(text("SELECT 1"))  # its transaction began before the horizon moved
        settlement.open_days(session, now=SETTLED_AT)
        waiting = settlement.settle(session, now=SETTLED_AT)
        assert waiting == settlement.Settled(None, waiting=True)
        assert _rollups(session) == {table: [] for table in ROLLUP_TABLES}
        assert service.revenue_report(session, staff("support"), PERIOD).totals == {
            "KZT": RevenueFigures(1, 100000, 0)
        }
        older.rollback()
    settled = settlement.settle(session, now=SETTLED_AT)
    assert settled.settled_through == date(2026, 11, 2)
    assert settled.waiting is False
    assert service.revenue_report(session, staff("support"), PERIOD).totals == {
        "KZT": RevenueFigures(1, 100000, 0)
    }


@pytest.mark.parametrize("max_new_days", [1, 2])
def test_new_days_are_settled_oldest_first_a_batch_at_a_time(
    session: Session, max_new_days: int
) -> None:
    card = create_card(session).id
    order(session, card_id=card, at=_utc(1, 5), amount_minor=100000)
    settlement.open_days(session, now=SETTLED_AT)
    first = settlement.settle(session, now=SETTLED_AT, max_new_days=max_new_days)
    assert first.new_days == max_new_days
    assert first.more is (max_new_days == 1)
    assert service.revenue_report(session, staff("support"), PERIOD).totals == {
        "KZT": RevenueFigures(1, 100000, 0)
    }


def test_the_reminder_trigger_reaches_as_far_as_the_report_counts(session: Session) -> None:
    source = session.execute(
        text("SELECT prosrc FROM pg_proc WHERE proname = 'report_mark_notification'")
    ).scalar_one()
    reach = renewals.REMINDER_WINDOW + renewals.QUEUE_ALLOWANCE
    assert f"interval '{int(reach.total_seconds() // 3600)} hours'" in source


def test_each_statement_over_rollups_answers_as_its_live_statement(session: Session) -> None:
    card = create_card(session).id
    plan = create_plan(session, code="ROLL-30D").id
    completed = order(session, card_id=card, at=_utc(1, 5), amount_minor=100000, plan_id=plan)
    refund(session, completed, 2500)
    order(session, card_id=card, at=_utc(2, 5), amount_minor=700, currency="USD")
    order(session, card_id=card, at=_utc(2, 6), amount_minor=900, state="expired", paid=False)
    sms(session, card, template="order_confirmation", at=_utc(2, 6))
    sms(session, card, template="reminder_expiry", at=_utc(3, 6), sent=False)  # today: live
    settle_at(session, SETTLED_AT)
    refund(session, completed, 500)  # 11-01 dirty
    today = Period(date(2026, 11, 1), date(2026, 11, 3))
    for statement, live in (
        (revenue.REVENUE, revenue.REVENUE_LIVE),
        (renewals.RENEWALS, renewals.RENEWALS_LIVE),
        (failures.FAILURES, failures.FAILURES_LIVE),
        (promotions.PROMOTION_COST, promotions.PROMOTION_COST_LIVE),
        (sms_report.SMS_BY_PROVIDER, sms_report.SMS_BY_PROVIDER_LIVE),
    ):
        values = {**period_values(today), **renewals.WINDOW_VALUES, "language": "en"}
        read = [tuple(row) for row in execute(session, statement, values)]
        assert read == [tuple(row) for row in execute(session, live, values)]
        assert read != [] or statement is promotions.PROMOTION_COST


def test_without_the_horizon_row_everything_is_read_live_and_settling_writes_it_again(
    session: Session,
) -> None:
    card = create_card(session).id
    order(session, card_id=card, at=_utc(1, 5), amount_minor=100000)
    session.execute(text("DELETE FROM report_horizon"))  # as the tests' TRUNCATE leaves it
    figures = {"KZT": RevenueFigures(1, 100000, 0)}
    assert service.revenue_report(session, staff("support"), PERIOD).totals == figures

    assert settle_at(session, SETTLED_AT).settled_through == date(2026, 11, 2)
    assert service.revenue_report(session, staff("support"), PERIOD).totals == figures
    assert session.execute(text("SELECT settled_through FROM report_horizon")).scalar_one() == (
        date(2026, 11, 2)
    )
