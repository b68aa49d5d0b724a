"""Defect 3, for the card sweeps: one card that fails in ``card.lifecycle`` (a queued bundle
that cannot start) or ``reminder.schedule`` (a reminder SMS that cannot be queued) is logged
and counted, its own writes are rolled back alone, the other cards are handled and the pass
completes; the failed card is tried again on the next pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.kit import sweep
from tulpar.models import Bundle, BundleState, Card, LedgerCause, Plan, RenewalPolicy
from tulpar.notification import service as notification_service
from tulpar.reminder import repository as reminder_repository
from tulpar.reminder import service as reminder_service

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 11:00 in Kazakhstan


class BrokenItemError(RuntimeError):
    pass


def _failures(name: str) -> float:
    return float(sweep.ITEM_FAILURES.labels(sweep=name)._value.get())


def _queued_renewal(session: Session, current: Plan, queued: Plan) -> tuple[Card, Bundle]:
    card, _ = create_active_card(session, plan=current)
    bundle = bundle_service.apply_plan(
        session, card, queued, cause=LedgerCause.order, actor="test", reason="test"
    )
    assert bundle.state is BundleState.scheduled
    return card, bundle


def test_a_bundle_that_cannot_start_does_not_stop_the_others(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen(START):
        current = create_plan(session, validity_days=7)
        queued = create_plan(
            session, validity_days=30, renewal_policy=RenewalPolicy.queue, rollover=True
        )
        (bad_card, bad), (_, good) = (_queued_renewal(session, current, queued) for _ in range(2))
        session.flush()
    real_start = bundle_service._start

    def start(session: Session, bundle: Bundle, plan: Plan) -> None:
        real_start(session, bundle, plan)  # its writes are made, then it fails
        if bundle.card_id == bad_card.id:
            raise BrokenItemError("this card's bundle cannot start")

    monkeypatch.setattr(bundle_service, "_start", start)
    before = _failures("card.lifecycle")
    later = START + timedelta(days=7, minutes=1)

    with capture_logs() as logs:
        counts = lifecycle.run(session, now=later)

    assert counts.bundles_started == 1
    assert good.state is BundleState.active
    session.refresh(bad)
    assert bad.state is BundleState.scheduled  # its savepoint was rolled back alone
    failed = [entry for entry in logs if entry["event"] == "sweep.item_failed"]
    assert [(entry["sweep"], entry["item"], entry["error"]) for entry in failed] == [
        ("card.lifecycle", str(bad.id), "BrokenItemError")
    ]
    assert _failures("card.lifecycle") == before + 1

    monkeypatch.setattr(bundle_service, "_start", real_start)
    again = lifecycle.run(session, now=later + timedelta(minutes=1))
    assert again.bundles_started == 1
    assert bad.state is BundleState.active


def test_a_reminder_that_cannot_be_queued_does_not_stop_the_others(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen(START):
        plan = create_plan(session, validity_days=7)
        bad_card, good_card, other_card = (
            create_active_card(session, plan=plan)[0] for _ in range(3)
        )
        session.flush()
    real_queue = reminder_service._queue

    def queue(
        session: Session, kind: reminder_service.Kind, reminder: reminder_repository.DueReminder
    ) -> bool:
        sent = real_queue(session, kind, reminder)  # its notification is written, then it fails
        if reminder.card_id == bad_card.id:
            raise BrokenItemError("this card's reminder cannot be queued")
        return sent

    monkeypatch.setattr(reminder_service, "_queue", queue)
    before = _failures("reminder.schedule")
    due = START + timedelta(days=7) - timedelta(hours=72)

    with capture_logs() as logs, clock.frozen(due):
        result = reminder_service.run_pass(session, now=due)

    assert result.queued["expiry_72h"] == 2
    for card in (good_card, other_card):
        assert [n.template for n in notification_service.for_card(session, card.id)] == [
            "reminder_expiry"
        ]
    assert notification_service.for_card(session, bad_card.id) == []  # rolled back alone
    failed = [entry for entry in logs if entry["event"] == "sweep.item_failed"]
    assert [(entry["sweep"], entry["item"], entry["error"]) for entry in failed] == [
        ("reminder.schedule", str(bad_card.id), "BrokenItemError")
    ]
    assert _failures("reminder.schedule") == before + 1

    monkeypatch.setattr(reminder_service, "_queue", real_queue)
    with clock.frozen(due + timedelta(minutes=1)):
        again = reminder_service.run_pass(session, now=due + timedelta(minutes=1))
    assert again.queued["expiry_72h"] == 1  # only the card that failed was still due
    assert len(notification_service.for_card(session, bad_card.id)) == 1
