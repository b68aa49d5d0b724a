"""A carrier that never leaves the process: records every call and answers as told.
For tests (``with use_carrier(RecordingCarrier()) as carrier: ...``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tulpar.integrations.carrier.protocol import (
    ApplyBundleRequest,
    CarrierResponse,
    CarrierStatus,
    CarrierUnavailableError,
)


@dataclass(frozen=True, slots=True)
class CarrierCall:
    operation: str  # apply_bundle | get_status | bar_service | restore_service
    reference: str
    timeout: float
    details: dict[str, Any] = field(default_factory=dict)


class RecordingCarrier:
    """Answers ``status`` (``applied`` unless told otherwise) and remembers each call.

    ``unavailable_for`` makes the next N calls raise :class:`CarrierUnavailableError`, as a
    timeout would. Thread-safe, since jobs may run in worker threads."""

    def __init__(
        self, *, status: CarrierStatus = CarrierStatus.applied, unavailable_for: int = 0
    ) -> None:
        self.status = status
        self.unavailable_for = unavailable_for
        self.calls: list[CarrierCall] = []
        self._lock = threading.Lock()

    def operations(self) -> list[tuple[str, str]]:
        """(operation, reference) of every call, in order."""
        with self._lock:
            return [(call.operation, call.reference) for call in self.calls]

    def _answer(self, call: CarrierCall) -> CarrierResponse:
        with self._lock:
            self.calls.append(call)
            if self.unavailable_for > 0:
                self.unavailable_for -= 1
                raise CarrierUnavailableError(f"{call.operation} {call.reference}: timed out")
            return CarrierResponse(
                reference=call.reference,
                status=self.status,
                carrier_reference=f"fake-{len(self.calls)}",
            )

    def apply_bundle(self, request: ApplyBundleRequest, *, timeout: float) -> CarrierResponse:
        return self._answer(
            CarrierCall("apply_bundle", request.reference, timeout, {"request": request})
        )

    def get_status(self, reference: str, *, timeout: float) -> CarrierResponse:
        return self._answer(CarrierCall("get_status", reference, timeout))

    def bar_service(
        self, *, reference: str, iccid: str, reason: str, timeout: float
    ) -> CarrierResponse:
        return self._answer(
            CarrierCall("bar_service", reference, timeout, {"iccid": iccid, "reason": reason})
        )

    def restore_service(self, *, reference: str, iccid: str, timeout: float) -> CarrierResponse:
        return self._answer(CarrierCall("restore_service", reference, timeout, {"iccid": iccid}))
