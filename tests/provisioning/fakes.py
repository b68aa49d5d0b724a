"""A scripted carrier for tests that need exact answers without HTTP."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tulpar.integrations.carrier.protocol import (
    ApplyBundleRequest,
    CarrierResponse,
    CarrierStatus,
    CarrierUnavailableError,
)


@dataclass
class ScriptedCarrier:
    """Answers ``apply_bundle`` with ``apply_status`` and ``get_status`` with
    ``status_answer``; ``None`` means unavailable. Records every call."""

    apply_status: CarrierStatus | None = CarrierStatus.applied
    status_answer: CarrierStatus | None = CarrierStatus.applied
    calls: list[tuple[str, str]] = field(default_factory=list)
    requests: list[ApplyBundleRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _answer(self, call: str, reference: str, status: CarrierStatus | None) -> CarrierResponse:
        with self._lock:
            self.calls.append((call, reference))
        if status is None:
            raise CarrierUnavailableError("scripted outage")
        return CarrierResponse(reference=reference, status=status, carrier_reference="fake-1")

    def apply_bundle(self, request: ApplyBundleRequest, *, timeout: float) -> CarrierResponse:
        self.requests.append(request)
        return self._answer("apply_bundle", request.reference, self.apply_status)

    def get_status(self, reference: str, *, timeout: float) -> CarrierResponse:
        return self._answer("get_status", reference, self.status_answer)

    def bar_service(
        self, *, reference: str, iccid: str, reason: str, timeout: float
    ) -> CarrierResponse:
        return self._answer("bar_service", reference, CarrierStatus.applied)

    def restore_service(self, *, reference: str, iccid: str, timeout: float) -> CarrierResponse:
        return self._answer("restore_service", reference, CarrierStatus.applied)
