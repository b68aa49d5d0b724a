"""The simulator's idempotency and failure modes, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.factories import make_iccid
from tulpar.carrier_sim.book import Book, ReferenceConflictError
from tulpar.carrier_sim.settings import Outage, SimulatorSettings
from tulpar.integrations.carrier.protocol import CarrierStatus
from tulpar.integrations.carrier.wire import BundleRequest, ServiceRequest

STARTS_AT = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def bundle_request(reference: str = "order-1", iccid: str | None = None) -> BundleRequest:
    return BundleRequest(
        reference=reference,
        iccid=iccid or make_iccid(1),
        msisdn="+77010000001",
        plan_code="KZ-7D-5GB",
        data_bytes=5_000_000_000,
        voice_seconds=3600,
        sms_count=50,
        starts_at=STARTS_AT,
        expires_at=STARTS_AT + timedelta(days=7),
    )


class TestApply:
    def test_the_same_reference_gets_the_same_answer_and_is_applied_once(self) -> None:
        book = Book(SimulatorSettings())

        answers = [book.apply(bundle_request()) for _ in range(5)]

        assert {answer.status for answer in answers} == {CarrierStatus.applied}
        assert len({answer.carrier_reference for answer in answers}) == 1
        assert book.applications == {"order-1": 1}

    def test_the_same_reference_with_another_request_is_a_conflict(self) -> None:
        book = Book(SimulatorSettings())
        book.apply(bundle_request(iccid=make_iccid(1)))

        with pytest.raises(ReferenceConflictError):
            book.apply(bundle_request(iccid=make_iccid(2)))
        assert book.applications == {"order-1": 1}

    def test_a_permanent_error_card_fails_permanently_every_time(self) -> None:
        iccid = make_iccid(7)
        book = Book(SimulatorSettings(permanent_error_iccids=frozenset({iccid})))

        first = book.apply(bundle_request(iccid=iccid))
        again = book.apply(bundle_request(iccid=iccid))

        assert (first.status, first.error_code) == (
            CarrierStatus.failed_permanently,
            "number_recycled",
        )
        assert again == first
        assert book.applications == {}

    def test_a_temporary_rejection_is_not_remembered(self) -> None:
        book = Book(SimulatorSettings(failure_rate=1.0))

        assert book.apply(bundle_request()).status is CarrierStatus.rejected
        assert book.status("order-1").status is CarrierStatus.unknown
        assert book.applications == {}

    def test_unknown_references_are_unknown(self) -> None:
        assert Book(SimulatorSettings()).status("order-404").status is CarrierStatus.unknown


class TestAsynchronousCompletion:
    def test_pending_becomes_applied_after_the_delay_with_one_callback(self) -> None:
        settings = SimulatorSettings(
            callback_url="http://127.0.0.1:9/cb", callback_secret="s", completion_delay_ms=50
        )
        clock = FakeClock()
        book = Book(settings, clock=clock)

        assert book.apply(bundle_request()).status is CarrierStatus.pending
        clock.advance(0.049)
        assert book.complete_due() == []
        assert book.status("order-1").status is CarrierStatus.pending
        clock.advance(0.001)
        due = book.complete_due()

        assert [booking.request.reference for booking in due] == ["order-1"]
        assert book.complete_due() == []  # the callback is issued once
        assert book.apply(bundle_request()).status is CarrierStatus.applied
        assert book.applications == {"order-1": 1}


class TestOutagesAndServices:
    def test_an_outage_window_covers_its_seconds(self) -> None:
        clock = FakeClock()
        book = Book(SimulatorSettings(outages=(Outage.parse("10-40"),)), clock=clock)

        assert book.in_outage() is False
        clock.advance(10)
        assert book.in_outage() is True
        clock.advance(29.999)
        assert book.in_outage() is True
        clock.advance(0.001)
        assert book.in_outage() is False

    def test_a_started_outage_lasts_its_seconds(self) -> None:
        clock = FakeClock()
        book = Book(SimulatorSettings(), clock=clock)

        book.start_outage(5)
        assert book.in_outage() is True
        clock.advance(4.999)
        assert book.in_outage() is True
        clock.advance(0.001)
        assert book.in_outage() is False

    @pytest.mark.parametrize("text", ["10", "5-3", "a-b", "-1-2"])
    def test_a_malformed_outage_is_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="START-END"):
            Outage.parse(text)

    def test_bar_and_restore_change_which_cards_are_active(self) -> None:
        book = Book(SimulatorSettings())
        book.apply(bundle_request())
        iccid = make_iccid(1)

        book.bar(ServiceRequest(reference="bar-1", iccid=iccid, reason="overage"))
        assert book.active_iccids() == []
        book.restore(ServiceRequest(reference="restore-1", iccid=iccid))
        assert book.active_iccids() == [iccid]
