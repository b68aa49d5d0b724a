from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.models import Card, LedgerCause, Plan
from tulpar.notification import service as notification_service
from tulpar.reminder import service

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 11:00 in Kazakhstan
HOUR = timedelta(hours=1)


def _card(session: Session, *, at: datetime = START, language: str = "zh-Hans") -> Card:
    with clock.frozen(at):
        card, _ = create_active_card(
            session, plan=create_plan(session, validity_days=7), language=language
        )
    return card


def _pass_at(session: Session, moment: datetime) -> service.PassResult:
    with clock.frozen(moment):
        return service.run_pass(session, now=moment)


def _reminders(session: Session, card: Card) -> list[tuple[str, str]]:
    return sorted(
        (notification.dedupe_key, notification.template)
        for notification in notification_service.for_card(session, card.id)
    )


def _key(kind: str, card: Card, end: datetime) -> str:
    return f"reminder:{kind}:{card.id}:{int(end.timestamp())}"


def _renew(session: Session, card: Card, plan: Plan, *, at: datetime) -> None:
    with clock.frozen(at):
        bundle_service.apply_plan(
            session, card, plan, cause=LedgerCause.manual_credit, actor="test", reason="renewal"
        )
    session.flush()


def test_72h_and_24h_reminders_go_once_each_in_the_cards_language(session: Session) -> None:
    card = _card(session, language="ru")
    end = START + timedelta(days=7)
    assert card.validity_ends_at == end

    _pass_at(session, end - 72 * HOUR - timedelta(minutes=1))
    assert _reminders(session, card) == []

    _pass_at(session, end - 72 * HOUR)
    _pass_at(session, end - 72 * HOUR + timedelta(minutes=1))
    assert _reminders(session, card) == [(_key("expiry_72h", card, end), "reminder_expiry")]

    _pass_at(session, end - 24 * HOUR)
    _pass_at(session, end - 23 * HOUR)
    assert _reminders(session, card) == [
        (_key("expiry_24h", card, end), "reminder_expiry"),
        (_key("expiry_72h", card, end), "reminder_expiry"),
    ]
    bodies = [n.body for n in notification_service.for_card(session, card.id)]
    assert (
        bodies
        == [
            "Tulpar: ваш тариф действует до 2026-12-01 11:00 (UTC+5). Продлить: наберите *100#"
            " или откройте http://127.0.0.1:8000/"
        ]
        * 2
    )


def test_running_the_scheduler_twice_sends_once(session: Session) -> None:
    card = _card(session)
    due = START + timedelta(days=4)

    _pass_at(session, due)
    _pass_at(session, due)

    assert len(_reminders(session, card)) == 1
    assert (
        session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'notification.send'"
                " AND (args->>'notification_id')::bigint IN"
                " (SELECT id FROM notifications WHERE card_id = :card)"
            ),
            {"card": card.id},
        ).scalar_one()
        == 1
    )


def test_a_renewal_in_between_cancels_the_old_ends_24h_reminder_and_the_new_end_gets_its_own(
    session: Session,
) -> None:
    plan = create_plan(session, validity_days=7)
    card = _card(session)
    old_end = START + timedelta(days=7)
    _pass_at(session, old_end - 72 * HOUR)

    _renew(session, card, plan, at=old_end - 48 * HOUR)
    new_end = old_end + timedelta(days=7)
    assert card.validity_ends_at == new_end

    _pass_at(session, old_end - 24 * HOUR)
    _pass_at(session, old_end)
    assert _reminders(session, card) == [(_key("expiry_72h", card, old_end), "reminder_expiry")]

    _pass_at(session, new_end - 72 * HOUR)
    _pass_at(session, new_end - 24 * HOUR)
    assert _reminders(session, card) == sorted(
        [
            (_key("expiry_72h", card, old_end), "reminder_expiry"),
            (_key("expiry_72h", card, new_end), "reminder_expiry"),
            (_key("expiry_24h", card, new_end), "reminder_expiry"),
        ]
    )


def test_a_reminder_due_at_23_00_local_waits_until_08_00(session: Session) -> None:
    evening = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 23:00 in Kazakhstan
    card = _card(session, at=evening)
    due = evening + timedelta(days=4)  # 72 h before the end: 23:00 local

    assert _pass_at(session, due).quiet
    _pass_at(session, due + 8 * HOUR + timedelta(minutes=59))  # 07:59 local
    assert _reminders(session, card) == []

    _pass_at(session, due + 9 * HOUR)  # 08:00 local
    assert _reminders(session, card) == [
        (_key("expiry_72h", card, card.validity_ends_at or due), "reminder_expiry")
    ]


def test_grace_reminders_at_expiry_and_three_days_before_termination(session: Session) -> None:
    card = _card(session, language="en")
    end = START + timedelta(days=7)
    with clock.frozen(end):
        lifecycle.run(session, now=end)
    session.refresh(card)

    _pass_at(session, end)
    _pass_at(session, end + HOUR)
    _pass_at(session, end + timedelta(days=26))
    assert _reminders(session, card) == [(_key("grace_expired", card, end), "reminder_expired")]

    _pass_at(session, end + timedelta(days=27))
    _pass_at(session, end + timedelta(days=27, hours=1))
    texts = {n.template: n.body for n in notification_service.for_card(session, card.id)}
    assert texts == {
        "reminder_expired": "Tulpar: your plan has expired. Renew within 30 days to keep your"
        " number: dial *100# or open http://127.0.0.1:8000/",
        "reminder_termination": "Tulpar: in 3 days your number will be recycled. Renew now to"
        " keep it: dial *100# or open http://127.0.0.1:8000/",
    }


def test_opted_out_cards_get_no_reminders_but_still_get_confirmations(session: Session) -> None:
    card = _card(session)
    card.marketing_opt_out_at = START
    session.flush()
    end = START + timedelta(days=7)

    for moment in (end - 72 * HOUR, end - 24 * HOUR):
        _pass_at(session, moment)
    with clock.frozen(end - 24 * HOUR):
        assert not service.data_threshold_reached(
            session, event_id=1, card_id=card.id, threshold_percent=90, now=end - 24 * HOUR
        )
        confirmation = notification_service.queue_sms(
            session,
            card_id=card.id,
            template="renewal_confirmed",
            context={"plan": "Test"},
            dedupe_key=f"test-confirmation-{card.id}",
        )

    assert confirmation is not None
    assert _reminders(session, card) == [(f"test-confirmation-{card.id}", "renewal_confirmed")]


def test_data_thresholds_become_one_sms_each(session: Session) -> None:
    card = _card(session)
    noon = START + HOUR
    with clock.frozen(noon):
        for event_id, percent in ((9_001, 75), (9_002, 90), (9_003, 100), (9_003, 100)):
            service.data_threshold_reached(
                session, event_id=event_id, card_id=card.id, threshold_percent=percent, now=noon
            )

    assert _reminders(session, card) == [
        ("reminder:data:9001", "reminder_data_75"),
        ("reminder:data:9002", "reminder_data_90"),
        ("reminder:data:9003", "reminder_data_100"),
    ]
    bodies = sorted(n.body for n in notification_service.for_card(session, card.id))
    assert bodies[0] == "【Tulpar】您已使用75%的流量。续费请拨*100#或访问http://127.0.0.1:8000/"


def test_a_data_threshold_crossed_at_night_is_deferred_to_08_00(session: Session) -> None:
    card = _card(session)
    night = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 01:30 in Kazakhstan
    with clock.frozen(night):
        queued = service.data_threshold_reached(
            session, event_id=9_100, card_id=card.id, threshold_percent=75, now=night
        )

    assert not queued
    assert _reminders(session, card) == []
    job = session.execute(
        text(
            "SELECT args, scheduled_at - now() AS wait FROM procrastinate_jobs"
            " WHERE task_name = 'reminder.data_threshold' AND (args->>'card_id')::bigint = :card"
        ),
        {"card": card.id},
    ).one()
    assert job.args == {"event_id": 9_100, "card_id": card.id, "threshold_percent": 75}
    # 01:30 → 08:00 local, whatever the wall clock of this test run.
    assert abs(job.wait - timedelta(hours=6, minutes=30)) < timedelta(minutes=1)

    morning = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with clock.frozen(morning):
        service.data_threshold_reached(
            session, event_id=9_100, card_id=card.id, threshold_percent=75, now=morning
        )
    assert _reminders(session, card) == [("reminder:data:9100", "reminder_data_75")]


def test_quiet_hours_run_from_22_00_to_08_00_local() -> None:
    before = datetime(2026, 11, 24, 16, 59, tzinfo=UTC)  # 21:59 local
    assert not service.in_quiet_hours(before)
    assert service.quiet_hours_end(before) == before
    morning = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 08:00 local
    for moment in (before + timedelta(minutes=1), morning - timedelta(minutes=1)):
        assert service.in_quiet_hours(moment)
        assert service.quiet_hours_end(moment) == morning
    assert not service.in_quiet_hours(morning)
