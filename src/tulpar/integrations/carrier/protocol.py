"""What Tulpar asks of a carrier / eSIM platform. Every call is idempotent on our
``reference`` and takes an explicit timeout; adapters raise :class:`CarrierUnavailableError`
when the carrier cannot be reached or answers garbage (the caller retries)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class CarrierStatus(enum.StrEnum):
    applied = "applied"  # done on the network
    pending = "pending"  # accepted; completion comes by callback or get_status
    rejected = "rejected"  # temporary refusal: retry later
    failed_permanently = "failed_permanently"  # e.g. number recycled: do not retry
    unknown = "unknown"  # the carrier has never heard of this reference


class CarrierUnavailableError(Exception):
    """Timeout, connection failure or an unreadable answer."""


@dataclass(frozen=True, slots=True)
class ApplyBundleRequest:
    reference: str
    iccid: str
    msisdn: str | None
    plan_code: str
    data_bytes: int | None  # None: unlimited
    voice_seconds: int | None
    sms_count: int | None
    starts_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CarrierResponse:
    reference: str
    status: CarrierStatus
    carrier_reference: str | None = None
    error_code: str | None = None
    message: str | None = None


class CarrierAdapter(Protocol):
    def apply_bundle(self, request: ApplyBundleRequest, *, timeout: float) -> CarrierResponse: ...

    def get_status(self, reference: str, *, timeout: float) -> CarrierResponse: ...

    def bar_service(
        self, *, reference: str, iccid: str, reason: str, timeout: float
    ) -> CarrierResponse: ...

    def restore_service(self, *, reference: str, iccid: str, timeout: float) -> CarrierResponse: ...
