"""What a partner shows its traveller: used and left of each kind, until when, as of when."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class KindUsage(BaseModel):
    """One kind (data bytes, voice seconds or SMS) over the bundles valid now. ``unlimited``
    is explicit: when true, ``granted``, ``remaining`` and ``used`` are null."""

    unlimited: bool
    granted: int | None
    remaining: int | None
    used: int | None = Field(description="granted − remaining")


class CardUsage(BaseModel):
    iccid: str
    state: str = Field(description="Lifecycle state right now")
    validity_ends_at: datetime | None = Field(description="UTC")
    validity_ends_at_local: datetime | None = Field(description="Kazakhstan local time (UTC+5)")
    data_bytes: KindUsage
    voice_seconds: KindUsage
    sms_count: KindUsage
    as_of: datetime | None = Field(
        description="When the newest usage rated for this card occurred (UTC): usage reaches"
        " us with a delay, so these figures are exact as of this time (null: none yet)"
    )
