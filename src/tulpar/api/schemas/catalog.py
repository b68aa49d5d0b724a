from __future__ import annotations

from pydantic import BaseModel

from tulpar.api.schemas.balance import MoneyAmount


class PlanAllowances(BaseModel):
    """A null value means unlimited."""

    data_bytes: int | None
    voice_seconds: int | None
    sms_count: int | None
    data_unlimited: bool
    voice_unlimited: bool
    sms_unlimited: bool


class PlanOut(BaseModel):
    code: str
    names: dict[str, str]
    validity_days: int
    allowances: PlanAllowances
    prices: list[MoneyAmount]
    channels: list[str]
    renewal_policy: str
    rollover: bool


class PlanList(BaseModel):
    data: list[PlanOut]
