"""The simulator's memory: what each reference asked for and what became of it.

Idempotency lives here. The first request for a reference decides its fate and later ones get
the same answer; a temporary rejection is not remembered (a retry may succeed, as on a real
network), and a bundle is applied at most once per reference, whatever is retried."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.integrations.carrier.protocol import CarrierStatus
from tulpar.integrations.carrier.wire import BundleRequest, CarrierAnswer, ServiceRequest


class ReferenceConflictError(Exception):
    """The reference was used before with a different request."""


@dataclass(slots=True)
class Booking:
    request: BundleRequest
    status: CarrierStatus
    carrier_reference: str
    completes_at: float  # seconds on the book's clock; when a pending booking becomes applied
    error_code: str | None = None
    callback_event_id: str | None = None

    def answer(self) -> CarrierAnswer:
        return CarrierAnswer(
            reference=self.request.reference,
            status=self.status,
            carrier_reference=self.carrier_reference,
            error_code=self.error_code,
        )


@dataclass
class Book:
    settings: SimulatorSettings
    # Monotonic seconds; outage windows and completion delays are measured on it, so tests
    # can move time instead of sleeping.
    clock: Callable[[], float] = time.monotonic
    started_at: float = field(init=False)
    bookings: dict[str, Booking] = field(default_factory=dict)
    barred_iccids: set[str] = field(default_factory=set)
    applications: dict[str, int] = field(default_factory=dict)  # reference -> times applied
    requests_seen: int = 0
    usage_batches_delivered: int = 0  # batches of usage records Tulpar accepted
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _usage_delivered: threading.Condition = field(init=False)
    _random: random.Random = field(init=False)
    _extra_outage_until: float = 0.0

    def __post_init__(self) -> None:
        self.started_at = self.clock()
        self._usage_delivered = threading.Condition(self._lock)
        self._random = random.Random(self.settings.seed)

    def in_outage(self) -> bool:
        now = self.clock()
        elapsed = now - self.started_at
        return now < self._extra_outage_until or any(
            outage.covers(elapsed) for outage in self.settings.outages
        )

    def start_outage(self, seconds: float) -> None:
        """Answer 503 from now for ``seconds`` (on top of the configured windows)."""
        self._extra_outage_until = self.clock() + seconds

    def apply(self, request: BundleRequest) -> CarrierAnswer:
        with self._lock:
            self.requests_seen += 1
            booking = self.bookings.get(request.reference)
            if booking is not None:
                if booking.request != request:
                    raise ReferenceConflictError(request.reference)
                self._settle(booking)
                return booking.answer()
            if request.iccid in self.settings.permanent_error_iccids:
                booking = self._book(request, CarrierStatus.failed_permanently)
                booking.error_code = "number_recycled"
                return booking.answer()
            if self._random.random() < self.settings.failure_rate:
                return CarrierAnswer(
                    reference=request.reference,
                    status=CarrierStatus.rejected,
                    error_code="network_busy",
                    message="temporary refusal, retry later",
                )
            if self.settings.is_asynchronous:
                booking = self._book(request, CarrierStatus.pending)
                booking.completes_at = self.clock() + self.settings.completion_delay_ms / 1000
                return booking.answer()
            booking = self._book(request, CarrierStatus.applied)
            self._count_application(request.reference)
            return booking.answer()

    def status(self, reference: str) -> CarrierAnswer:
        with self._lock:
            booking = self.bookings.get(reference)
            if booking is None:
                return CarrierAnswer(reference=reference, status=CarrierStatus.unknown)
            self._settle(booking)
            return booking.answer()

    def complete_due(self) -> list[Booking]:
        """Apply pending bookings whose time has come; returns those needing a callback."""
        with self._lock:
            for booking in self.bookings.values():
                self._settle(booking)
            due = [b for b in self.bookings.values() if self._needs_callback(b)]
            for booking in due:
                booking.callback_event_id = f"evt_{uuid.uuid4().hex}"
            return due

    def bar(self, request: ServiceRequest) -> CarrierAnswer:
        with self._lock:
            self.barred_iccids.add(request.iccid)
        return CarrierAnswer(reference=request.reference, status=CarrierStatus.applied)

    def restore(self, request: ServiceRequest) -> CarrierAnswer:
        with self._lock:
            self.barred_iccids.discard(request.iccid)
        return CarrierAnswer(reference=request.reference, status=CarrierStatus.applied)

    def record_usage_delivered(self) -> None:
        """Tulpar accepted a batch of usage records."""
        with self._usage_delivered:
            self.usage_batches_delivered += 1
            self._usage_delivered.notify_all()

    def wait_for_usage_batches(self, count: int, *, timeout: float) -> bool:
        """Block until ``count`` usage batches were accepted (or ``timeout`` seconds pass);
        for tests and benchmarks that would otherwise poll."""
        with self._usage_delivered:
            return self._usage_delivered.wait_for(
                lambda: self.usage_batches_delivered >= count, timeout
            )

    def active_iccids(self) -> list[str]:
        with self._lock:
            return sorted(
                {
                    b.request.iccid
                    for b in self.bookings.values()
                    if b.status is CarrierStatus.applied
                    and b.request.iccid not in self.barred_iccids
                }
            )

    def snapshot(self) -> dict[str, object]:
        """What the simulator holds, for people watching the demo (and the benchmark)."""
        with self._lock:
            for booking in self.bookings.values():
                self._settle(booking)
            return {
                "bookings": {
                    reference: booking.answer().model_dump(mode="json")
                    for reference, booking in sorted(self.bookings.items())
                },
                "applications": dict(self.applications),
                "barred_iccids": sorted(self.barred_iccids),
                "usage_batches_delivered": self.usage_batches_delivered,
                "in_outage": self.in_outage(),
            }

    def _book(self, request: BundleRequest, status: CarrierStatus) -> Booking:
        booking = Booking(
            request=request,
            status=status,
            carrier_reference=f"sim-{uuid.uuid4().hex[:12]}",
            completes_at=self.clock(),
        )
        self.bookings[request.reference] = booking
        return booking

    def _settle(self, booking: Booking) -> None:
        if booking.status is CarrierStatus.pending and self.clock() >= booking.completes_at:
            booking.status = CarrierStatus.applied
            self._count_application(booking.request.reference)

    def _needs_callback(self, booking: Booking) -> bool:
        return (
            self.settings.is_asynchronous
            and booking.status is CarrierStatus.applied
            and booking.callback_event_id is None
        )

    def _count_application(self, reference: str) -> None:
        self.applications[reference] = self.applications.get(reference, 0) + 1
