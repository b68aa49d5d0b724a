from __future__ import annotations

from pydantic import BaseModel, Field

from tulpar.api.schemas.balance import MoneyAmount


class PromotionOut(BaseModel):
    """The promotion applied (one per order, the best for the traveller)."""

    code: str | None = Field(description="Its code; null for an automatic promotion")
    names: dict[str, str] = Field(description="Its name in zh-Hans, ru, kk and en")
    list_price: MoneyAmount = Field(description="The price before the promotion")
    discount: MoneyAmount = Field(description="The money off (0 for a bonus-only promotion)")
    bonus_data_bytes: int = Field(description="Extra data added to the renewal's own bundle")
    bonus_days: int = Field(description="Extra days added to the renewal's own bundle")
