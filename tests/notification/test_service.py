from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_card
from tests.fixtures.sms import RecordingSmsProvider
from tulpar.integrations.sms import SmsProviderError, use_provider
from tulpar.models import Notification, NotificationState
from tulpar.notification import service
from tulpar.notification.tasks import deliver


def _send_jobs(session: Session) -> list[int]:
    rows = session.execute(
        text(
            "SELECT (args->>'notification_id')::bigint FROM procrastinate_jobs"
            " WHERE task_name = 'notification.send' ORDER BY id"
        )
    ).scalars()
    return list(rows)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Notification)) or 0


class TestQueueSms:
    def test_queues_one_rendered_row_and_its_job(self, session: Session, frozen_now: datetime):
        card, _ = create_active_card(session, language="zh-Hans")

        notification = service.queue_sms(
            session,
            card_id=card.id,
            template="renewal_confirmed",
            context={"plan": {"zh-Hans": "测试", "ru": "Т", "kk": "Т", "en": "T"}},
            dedupe_key="order:1:confirmed",
        )

        assert notification is not None
        assert (
            notification.recipient,
            notification.language,
            notification.template,
            notification.state,
            notification.encoding,
            notification.segment_count,
        ) == (card.msisdn, "zh-Hans", "renewal_confirmed", NotificationState.queued, "ucs2", 2)
        # 75 UCS-2 characters: two parts. Balances come from the card: 7-day plan from 06:00 UTC.
        assert notification.body == (
            "【Tulpar】测试已生效，有效期至2026-12-01 11:00 (UTC+5)。"
            "剩余：流量5 GB，通话60分钟，短信50。钱包余额0 KZT。"
        )
        assert _send_jobs(session) == [notification.id]

    def test_the_same_dedupe_key_queues_nothing_more(self, session: Session) -> None:
        card = create_card(session, language="en")
        first = service.queue_sms(
            session, card_id=card.id, template="otp", context={"code": "111111"}, dedupe_key="k"
        )
        second = service.queue_sms(
            session, card_id=card.id, template="otp", context={"code": "222222"}, dedupe_key="k"
        )

        assert first is not None
        assert second is None
        assert _count(session) == 1
        assert _send_jobs(session) == [first.id]
        assert "111111" in first.body

    def test_a_card_without_a_number_gets_nothing(self, session: Session) -> None:
        card = create_card(session, msisdn=None)
        assert (
            service.queue_sms(
                session, card_id=card.id, template="otp", context={"code": "1"}, dedupe_key="x"
            )
            is None
        )
        assert _count(session) == 0
        assert _send_jobs(session) == []

    def test_an_unknown_template_is_refused_before_anything_is_written(
        self, session: Session
    ) -> None:
        card = create_card(session)
        with pytest.raises(ValueError, match="Unknown notification template"):
            service.queue_sms(session, card_id=card.id, template="nope", context={}, dedupe_key="y")
        assert _count(session) == 0
        assert _send_jobs(session) == []


class TestDeliver:
    def _queued(self, session: Session) -> Notification:
        card = create_card(session, language="en")
        notification = service.queue_sms(
            session, card_id=card.id, template="otp", context={"code": "123456"}, dedupe_key="d"
        )
        assert notification is not None
        session.flush()
        return notification

    def test_sends_once_and_records_the_provider_id(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        provider = RecordingSmsProvider()

        with use_provider(provider):
            deliver(session_factory, notification.id)
            deliver(session_factory, notification.id)  # a retried job

        session.refresh(notification)
        assert [(m.recipient, m.idempotency_key) for m in provider.sent] == [
            (notification.recipient, f"notification-{notification.id}")
        ]
        assert provider.calls == 1
        assert (notification.state, notification.provider, notification.provider_message_id) == (
            NotificationState.sent,
            "fake",
            "fake-1",
        )
        assert notification.sent_at is not None
        # The provider got the code; our copy keeps it masked.
        assert provider.sent[0].text == "Tulpar code: 123456. Valid for 5 minutes. Never share it."
        assert notification.body == "Tulpar code: ••••••. Valid for 5 minutes. Never share it."

    def test_a_crash_before_recording_is_deduplicated_by_the_idempotency_key(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        provider = RecordingSmsProvider()
        with use_provider(provider):
            # First run: the provider accepted, then the worker died before recording.
            pending = service.pending_sms(session, notification.id)
            assert pending is not None
            provider.send(pending.message)
            deliver(session_factory, notification.id)  # the retry

        session.refresh(notification)
        assert len(provider.sent) == 1
        assert provider.calls == 2
        assert notification.state is NotificationState.sent

    def test_a_transient_error_is_retried_and_keeps_it_queued(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        provider = RecordingSmsProvider(fail_with=SmsProviderError("timeout"))
        with use_provider(provider), pytest.raises(SmsProviderError):
            deliver(session_factory, notification.id)

        session.refresh(notification)
        assert (notification.state, notification.error) == (NotificationState.queued, "timeout")
        assert provider.sent == []

    def test_a_transient_error_on_the_last_try_marks_it_failed(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        provider = RecordingSmsProvider(fail_with=SmsProviderError("timeout"))
        with use_provider(provider):
            deliver(session_factory, notification.id, last_attempt=True)

        session.refresh(notification)
        assert (notification.state, notification.error) == (NotificationState.failed, "timeout")
        assert provider.sent == []

    def test_a_permanent_error_marks_it_failed(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        provider = RecordingSmsProvider(fail_with=SmsProviderError("barred", permanent=True))
        with use_provider(provider):
            deliver(session_factory, notification.id)
            deliver(session_factory, notification.id)

        session.refresh(notification)
        assert (notification.state, notification.error) == (NotificationState.failed, "barred")
        assert provider.calls == 1

    def test_the_outbox_provider_marks_it_delivered(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        deliver(session_factory, notification.id)

        session.refresh(notification)
        assert (notification.state, notification.provider, notification.provider_message_id) == (
            NotificationState.delivered,
            "outbox",
            f"outbox-notification-{notification.id}",
        )


class _BrokenProvider:
    name = "broken"

    def send(self, message: object) -> object:
        raise RuntimeError("socket closed unexpectedly")


class TestUnexpectedErrors:
    def _queued(self, session: Session) -> Notification:
        card = create_card(session, language="en")
        notification = service.queue_sms(
            session, card_id=card.id, template="otp", context={"code": "123456"}, dedupe_key="u"
        )
        assert notification is not None
        session.flush()
        return notification

    def test_an_unexpected_error_is_recorded_and_retried(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        with use_provider(_BrokenProvider()), pytest.raises(RuntimeError):  # type: ignore[arg-type]
            deliver(session_factory, notification.id)

        session.refresh(notification)
        assert (notification.state, notification.error, notification.provider) == (
            NotificationState.queued,
            "RuntimeError('socket closed unexpectedly')",
            "broken",
        )

    def test_on_the_last_try_it_marks_the_message_failed_instead_of_leaving_it_queued(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        notification = self._queued(session)
        with use_provider(_BrokenProvider()):  # type: ignore[arg-type]
            deliver(session_factory, notification.id, last_attempt=True)

        session.refresh(notification)
        assert (notification.state, notification.error) == (
            NotificationState.failed,
            "RuntimeError('socket closed unexpectedly')",
        )
