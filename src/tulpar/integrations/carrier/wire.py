"""The carrier HTTP protocol on the wire, shared by :mod:`.http` (our client) and the carrier
simulator (``tulpar carrier-sim``) so the two cannot drift apart.

``POST /bundles`` (:class:`BundleRequest`) and ``GET /bundles/{reference}`` answer a
:class:`CarrierAnswer`; ``POST /services/bar`` and ``/services/restore`` take a
:class:`ServiceRequest`. The carrier reports asynchronous completion by POSTing a signed
:class:`CallbackEvent` to Tulpar's ``/carrier/callbacks``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tulpar.integrations.carrier.protocol import CarrierStatus

# Header of the carrier's signed callbacks (scheme: tulpar.integrations.signature).
SIGNATURE_HEADER = "Tulpar-Carrier-Signature"

Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:_\-.]+$")]


class BundleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: Reference
    iccid: str = Field(pattern=r"^89[0-9]{16,18}$")
    msisdn: str | None = None
    plan_code: str = Field(min_length=1, max_length=32)
    data_bytes: int | None = Field(default=None, ge=0)
    voice_seconds: int | None = Field(default=None, ge=0)
    sms_count: int | None = Field(default=None, ge=0)
    starts_at: datetime
    expires_at: datetime


class ServiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: Reference
    iccid: str = Field(pattern=r"^89[0-9]{16,18}$")
    reason: str | None = Field(default=None, max_length=200)


class CarrierAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    reference: str
    status: CarrierStatus
    carrier_reference: str | None = None
    error_code: str | None = None
    message: str | None = None


class CallbackEvent(BaseModel):
    """What the carrier POSTs when a pending bundle reaches a final status."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: str = Field(min_length=1, max_length=100)
    reference: Reference
    status: CarrierStatus
    carrier_reference: str | None = Field(default=None, max_length=100)
    error_code: str | None = Field(default=None, max_length=100)
    occurred_at: datetime
