from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Allowance(BaseModel):
    """``unlimited`` is explicit; when true, ``remaining`` and ``granted`` are null."""

    unlimited: bool
    remaining: int | None = Field(description="Bytes, seconds or messages left")
    granted: int | None


class MoneyAmount(BaseModel):
    amount_minor: int
    currency: str


class BundleSummary(BaseModel):
    id: int
    plan_code: str
    state: str
    starts_at: datetime
    expires_at: datetime
    data_bytes: Allowance
    voice_seconds: Allowance
    sms_count: Allowance


class CardBalance(BaseModel):
    iccid: str
    msisdn: str | None
    state: str = Field(description="Lifecycle state right now")
    validity_ends_at: datetime | None = Field(description="UTC")
    validity_ends_at_local: datetime | None = Field(description="Kazakhstan local time (UTC+5)")
    data_bytes: Allowance
    voice_seconds: Allowance
    sms_count: Allowance
    wallet: MoneyAmount
    bundles: list[BundleSummary]
    usage_as_of: datetime | None = Field(
        default=None,
        description="When the newest usage record rated for this card occurred (UTC); usage"
        " reaches us with a delay, so balances are exact as of this time",
    )
