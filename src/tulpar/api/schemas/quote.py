from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tulpar.api.schemas.balance import MoneyAmount
from tulpar.api.schemas.promotion import PromotionOut


class Amounts(BaseModel):
    """An amount of each allowance; null means an unlimited allowance."""

    data_bytes: int | None
    voice_seconds: int | None
    sms_count: int | None


class RenewalQuoteOut(BaseModel):
    plan: str
    price: MoneyAmount = Field(description="What the traveller pays, after any promotion")
    promotion: PromotionOut | None = Field(
        default=None, description="The promotion this renewal gets (null: none applies)"
    )
    policy: str = Field(description="`extend` (active at once) or `queue` (after the current)")
    starts_at: datetime = Field(description="When the new bundle starts (UTC)")
    expires_at: datetime = Field(description="When the new bundle ends (UTC)")
    validity_ends_at: datetime = Field(description="The card's validity end after renewing (UTC)")
    validity_ends_at_local: datetime = Field(description="The same, Kazakhstan local time")
    carried_over: Amounts = Field(description="What is left now and moves into the new bundle")
    forfeited: Amounts = Field(description="What is left now and is lost by renewing now")
