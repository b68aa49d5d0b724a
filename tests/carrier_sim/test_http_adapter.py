"""The HTTP adapter against the simulator served by uvicorn on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from tests.fixtures.factories import make_iccid
from tulpar.carrier_sim.server import RunningSimulator, app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.integrations.carrier.http import HttpCarrier
from tulpar.integrations.carrier.protocol import (
    ApplyBundleRequest,
    CarrierStatus,
    CarrierUnavailableError,
)
from tulpar.integrations.carrier.wire import SIGNATURE_HEADER, CallbackEvent
from tulpar.integrations.signature import verify

STARTS_AT = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def apply_request(reference: str = "order-1", iccid: str | None = None) -> ApplyBundleRequest:
    return ApplyBundleRequest(
        reference=reference,
        iccid=iccid or make_iccid(11),
        msisdn="+77010000011",
        plan_code="KZ-7D-5GB",
        data_bytes=5_000_000_000,
        voice_seconds=None,
        sms_count=50,
        starts_at=STARTS_AT,
        expires_at=STARTS_AT + timedelta(days=7),
    )


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with simulator_in_thread(SimulatorSettings()) as running:
        yield running


class TestAgainstTheSimulator:
    @pytest.fixture
    def carrier(self, simulator: RunningSimulator) -> Iterator[HttpCarrier]:
        with HttpCarrier(simulator.url) as carrier:
            yield carrier

    def test_apply_is_idempotent_on_our_reference(
        self, simulator: RunningSimulator, carrier: HttpCarrier
    ) -> None:

        first = carrier.apply_bundle(apply_request(), timeout=5)
        again = carrier.apply_bundle(apply_request(), timeout=5)

        assert first.status is CarrierStatus.applied
        assert again == first
        assert simulator.book.applications == {"order-1": 1}
        assert carrier.get_status("order-1", timeout=5) == first

    def test_an_unknown_reference_is_unknown(self, carrier: HttpCarrier) -> None:
        answer = carrier.get_status("order-404", timeout=5)

        assert (answer.reference, answer.status) == ("order-404", CarrierStatus.unknown)

    def test_a_reused_reference_with_another_bundle_fails_permanently(
        self, carrier: HttpCarrier
    ) -> None:
        carrier.apply_bundle(apply_request(iccid=make_iccid(11)), timeout=5)

        answer = carrier.apply_bundle(apply_request(iccid=make_iccid(12)), timeout=5)

        assert (answer.status, answer.error_code) == (
            CarrierStatus.failed_permanently,
            "reference_conflict",
        )

    def test_an_outage_raises_unavailable(
        self, simulator: RunningSimulator, carrier: HttpCarrier
    ) -> None:
        simulator.book.start_outage(30)

        with pytest.raises(CarrierUnavailableError, match="HTTP 503"):
            carrier.apply_bundle(apply_request(), timeout=5)
        assert simulator.book.bookings == {}

    def test_bar_and_restore(self, simulator: RunningSimulator, carrier: HttpCarrier) -> None:
        iccid = make_iccid(11)

        barred = carrier.bar_service(reference="bar-1", iccid=iccid, reason="overage", timeout=5)
        assert simulator.book.barred_iccids == {iccid}
        restored = carrier.restore_service(reference="restore-1", iccid=iccid, timeout=5)

        assert (barred.status, restored.status) == (CarrierStatus.applied, CarrierStatus.applied)
        assert simulator.book.barred_iccids == set()


class TestTimeoutsAndGarbage:
    def test_a_slow_carrier_times_out(self) -> None:
        with (
            simulator_in_thread(SimulatorSettings(latency_ms=500)) as simulator,
            HttpCarrier(simulator.url) as carrier,
            pytest.raises(CarrierUnavailableError, match="ReadTimeout"),
        ):
            carrier.apply_bundle(apply_request(), timeout=0.05)

    def test_nobody_listening_is_unavailable(self) -> None:
        with simulator_in_thread(SimulatorSettings()) as simulator:
            url = simulator.url
        with HttpCarrier(url) as carrier, pytest.raises(CarrierUnavailableError, match="Connect"):
            carrier.get_status("order-1", timeout=1)

    @pytest.mark.parametrize(
        ("status", "body"),
        [
            (200, b"<html>not json</html>"),
            (200, b'{"reference": "order-1", "status": "done"}'),
            (200, b'{"reference": "order-2", "status": "applied"}'),
            (502, b'{"reference": "order-1", "status": "applied"}'),
            (429, b""),
        ],
    )
    def test_garbage_is_unavailable(self, status: int, body: bytes) -> None:
        garbage = FastAPI()

        @garbage.get("/bundles/{reference}")
        def answer(reference: str, request: Request) -> Response:
            return Response(body, status_code=status, media_type="application/json")

        with (
            app_in_thread(garbage) as url,
            HttpCarrier(url) as carrier,
            pytest.raises(CarrierUnavailableError),
        ):
            carrier.get_status("order-1", timeout=5)

    def test_no_configured_url_is_unavailable(self) -> None:
        with pytest.raises(CarrierUnavailableError, match="TULPAR_CARRIER_URL"):
            HttpCarrier(None).get_status("order-1", timeout=1)


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str | None, bytes]] = []  # noqa: RUF012
    arrived = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append((self.headers.get(SIGNATURE_HEADER), body))
        type(self).arrived.set()
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class TestSignedCallbacks:
    def test_a_pending_bundle_completes_by_one_signed_callback(self) -> None:
        _Collector.received, _Collector.arrived = [], threading.Event()
        collector = HTTPServer(("127.0.0.1", 0), _Collector)
        thread = threading.Thread(target=collector.serve_forever, daemon=True)
        thread.start()
        callback_url = f"http://127.0.0.1:{collector.server_port}/carrier/callbacks"
        settings = SimulatorSettings(
            callback_url=callback_url, callback_secret="whsec", completion_delay_ms=30
        )
        try:
            with simulator_in_thread(settings) as simulator, HttpCarrier(simulator.url) as carrier:
                assert (
                    carrier.apply_bundle(apply_request(), timeout=5).status is CarrierStatus.pending
                )
                assert _Collector.arrived.wait(timeout=5)
                assert carrier.get_status("order-1", timeout=5).status is CarrierStatus.applied
        finally:
            collector.shutdown()
            collector.server_close()
            thread.join(timeout=5)

        [(header, body)] = _Collector.received
        verify("whsec", header, body)
        event = CallbackEvent.model_validate(json.loads(body))
        assert (event.reference, event.status) == ("order-1", CarrierStatus.applied)
        assert event.event_id.startswith("evt_")


def test_the_simulator_refuses_malformed_requests(simulator: RunningSimulator) -> None:
    with httpx.Client() as client:
        response = client.post(f"{simulator.url}/bundles", json={"reference": "x"}, timeout=5)

    assert response.status_code == 422
    assert simulator.book.requests_seen == 0
