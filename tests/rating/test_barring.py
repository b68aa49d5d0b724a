from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.rating.records import add_bundle, jobs, record
from tulpar import clock
from tulpar.barring import service as barring_service
from tulpar.barring.tasks import bar_service, restore_service
from tulpar.bundle import service as bundle_service
from tulpar.card import service as card_service
from tulpar.db import transaction
from tulpar.integrations.carrier import use_carrier
from tulpar.integrations.carrier.fake import RecordingCarrier
from tulpar.integrations.carrier.protocol import CarrierStatus, CarrierUnavailableError
from tulpar.models import LedgerCause, ServiceBar
from tulpar.rating.tasks import threshold_crossed
from tulpar.usage import service as usage_service

MINUTE = timedelta(minutes=1)


def _bars(session: Session) -> list[tuple[int, bool]]:
    rows = session.execute(
        text("SELECT card_id, lifted_at IS NOT NULL FROM service_bars ORDER BY id")
    )
    return [(int(card_id), bool(lifted)) for card_id, lifted in rows]


def _job_locks(session: Session, task_name: str) -> list[str]:
    rows = session.execute(
        text("SELECT lock FROM procrastinate_jobs WHERE task_name = :name ORDER BY id"),
        {"name": task_name},
    )
    return [str(lock) for lock in rows.scalars()]


class TestBarOnExhaustion:
    def test_running_out_with_no_other_bundle_bars_the_card_once(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card, _ = create_active_card(session, plan=create_plan(session, data_bytes=1_000))

        outcome_ids = usage_service.ingest(session, [record(card, "a", 1_000, frozen_now)])
        usage_service.ingest(session, [record(card, "b", 500, frozen_now + MINUTE)])

        assert outcome_ids.accepted == 1
        assert _bars(session) == [(card.id, False)]
        bar = barring_service.open_bar(session, card.id)
        assert bar is not None
        assert jobs(session, "carrier.bar_service") == [{"bar_id": bar.id}]
        assert _job_locks(session, "carrier.bar_service") == [f"carrier-card-{card.id}"]

    def test_overage_on_a_card_without_any_bundle_bars_it(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session)

        usage_service.ingest(session, [record(card, "a", 10, frozen_now)])

        assert _bars(session) == [(card.id, False)]

    def test_a_card_with_another_bundle_with_data_left_is_not_barred(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session)
        for days in (1, 5):
            add_bundle(
                session,
                card,
                starts_at=frozen_now - timedelta(days=1),
                expires_at=frozen_now + timedelta(days=days),
                data_bytes=100,
            )

        usage_service.ingest(session, [record(card, "a", 150, frozen_now)])

        assert _bars(session) == []
        assert jobs(session, "carrier.bar_service") == []

    def test_a_late_record_running_out_an_old_bundle_does_not_bar_a_card_with_data_now(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session)
        add_bundle(
            session,
            card,
            starts_at=frozen_now - timedelta(days=9),
            expires_at=frozen_now - timedelta(days=2),
            data_bytes=100,
            state="expired",
        )
        add_bundle(
            session,
            card,
            starts_at=frozen_now - timedelta(days=2),
            expires_at=frozen_now + timedelta(days=5),
            data_bytes=100,
        )

        usage_service.ingest(session, [record(card, "late", 300, frozen_now - timedelta(days=3))])

        assert _bars(session) == []

    def test_voice_overage_alone_does_not_bar(self, session: Session, frozen_now: datetime) -> None:
        plan = create_plan(session, data_bytes=1_000, voice_seconds=60)
        card, _ = create_active_card(session, plan=plan)

        usage_service.ingest(session, [record(card, "call", 90, frozen_now, kind="voice")])

        assert _bars(session) == []


class TestRestoreOnRenewal:
    def test_renewal_lifts_the_bar_and_enqueues_the_restore_behind_the_bar(
        self, session: Session, frozen_now: datetime
    ) -> None:
        plan = create_plan(session, data_bytes=1_000)
        card, _ = create_active_card(session, plan=plan)
        usage_service.ingest(session, [record(card, "a", 1_200, frozen_now)])
        bar = barring_service.open_bar(session, card.id)
        assert bar is not None

        bundle_service.apply_plan(session, card, plan, cause=LedgerCause.manual_credit, actor="t")

        assert _bars(session) == [(card.id, True)]
        assert jobs(session, "carrier.restore_service") == [{"bar_id": bar.id}]
        # Same lock as the bar job: procrastinate runs them one after the other, in order.
        assert _job_locks(session, "carrier.restore_service") == [f"carrier-card-{card.id}"]

    def test_renewing_a_card_that_is_not_barred_enqueues_nothing(
        self, session: Session, frozen_now: datetime
    ) -> None:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)

        bundle_service.apply_plan(session, card, plan, cause=LedgerCause.manual_credit, actor="t")

        assert jobs(session, "carrier.restore_service") == []


@pytest.fixture
def barred_card(committed: sessionmaker[Session]) -> tuple[int, int]:
    """(card id, bar id) of a committed card that ran out of data."""
    now = datetime.fromisoformat("2026-11-24T06:00:00+00:00")
    with clock.frozen(now), transaction(committed) as session:
        card, _ = create_active_card(session, plan=create_plan(session, data_bytes=100))
        usage_service.ingest(session, [record(card, "a", 150, now)], now=now)
        bar = barring_service.open_bar(session, card.id)
        assert bar is not None
        return card.id, bar.id


def _bar(committed: sessionmaker[Session], bar_id: int) -> ServiceBar:
    with transaction(committed) as session:
        bar = session.get(ServiceBar, bar_id)
        assert bar is not None
        return bar


class TestCarrierJobs:
    def test_the_bar_job_calls_the_carrier_once_and_records_the_answer(
        self, committed: sessionmaker[Session], barred_card: tuple[int, int]
    ) -> None:
        _, bar_id = barred_card
        carrier = RecordingCarrier()
        with use_carrier(carrier):
            bar_service(bar_id=bar_id)
            bar_service(bar_id=bar_id)  # a retried job: already answered, nothing sent

        assert carrier.operations() == [("bar_service", f"bar-{bar_id}")]
        assert carrier.calls[0].details["reason"] == barring_service.OUT_OF_DATA
        assert carrier.calls[0].timeout == 10.0
        assert _bar(committed, bar_id).bar_confirmed_at is not None

    def test_a_carrier_timeout_leaves_the_bar_unconfirmed_for_the_retry(
        self, committed: sessionmaker[Session], barred_card: tuple[int, int]
    ) -> None:
        _, bar_id = barred_card
        carrier = RecordingCarrier(unavailable_for=1)
        with use_carrier(carrier):
            with pytest.raises(CarrierUnavailableError):
                bar_service(bar_id=bar_id)
            assert _bar(committed, bar_id).bar_confirmed_at is None
            bar_service(bar_id=bar_id)

        assert carrier.operations() == [("bar_service", f"bar-{bar_id}")] * 2
        assert _bar(committed, bar_id).bar_confirmed_at is not None

    def test_a_temporary_refusal_raises_so_the_job_is_retried(
        self, committed: sessionmaker[Session], barred_card: tuple[int, int]
    ) -> None:
        _, bar_id = barred_card
        with (
            use_carrier(RecordingCarrier(status=CarrierStatus.rejected)),
            pytest.raises(barring_service.CarrierRefusedError),
        ):
            bar_service(bar_id=bar_id)

        assert _bar(committed, bar_id).bar_confirmed_at is None

    def test_after_renewal_the_restore_job_tells_the_carrier(
        self, committed: sessionmaker[Session], barred_card: tuple[int, int]
    ) -> None:
        card_id, bar_id = barred_card
        carrier = RecordingCarrier()
        with use_carrier(carrier):
            bar_service(bar_id=bar_id)
            with transaction(committed) as session:
                card = card_service.get_for_update(session, card_id)
                bundle_service.apply_plan(
                    session, card, create_plan(session), cause=LedgerCause.manual_credit
                )
            restore_service(bar_id=bar_id)
            restore_service(bar_id=bar_id)

        assert carrier.operations() == [
            ("bar_service", f"bar-{bar_id}"),
            ("restore_service", f"restore-{bar_id}"),
        ]
        assert _bar(committed, bar_id).restore_confirmed_at is not None

    def test_a_bar_lifted_before_its_job_ran_is_never_sent(
        self, committed: sessionmaker[Session], barred_card: tuple[int, int]
    ) -> None:
        card_id, bar_id = barred_card
        with transaction(committed) as session:
            barring_service.lift_after_renewal(session, card_id)
        carrier = RecordingCarrier()
        with use_carrier(carrier):
            bar_service(bar_id=bar_id)
            restore_service(bar_id=bar_id)

        assert carrier.operations() == [("restore_service", f"restore-{bar_id}")]


def test_the_threshold_job_logs_the_event(
    committed: sessionmaker[Session], barred_card: tuple[int, int]
) -> None:
    card_id, _ = barred_card
    with transaction(committed) as session:
        event_id = session.execute(
            text(
                "SELECT id FROM usage_threshold_events"
                " WHERE card_id = :card AND threshold_percent = 100"
            ),
            {"card": card_id},
        ).scalar_one()

    with structlog.testing.capture_logs() as logs:
        threshold_crossed(event_id=event_id)
        threshold_crossed(event_id=event_id + 1_000)  # gone: nothing to say

    assert [(log["event"], log["threshold_percent"], log["card_id"]) for log in logs] == [
        ("rating.threshold_crossed", 100, card_id)
    ]
