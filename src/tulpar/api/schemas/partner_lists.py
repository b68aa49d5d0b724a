"""The partner API's paged lists: orders, a card's bundles, a card's daily usage."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from tulpar.api.schemas.balance import BundleSummary, MoneyAmount

_NEXT = Field(
    description="Pass as `cursor` for the next page; null on the last page. Opaque: a cursor"
    " that was changed, or that another list or filter issued, is refused with 422"
    " `cursor_invalid`"
)


class OrderListItem(BaseModel):
    id: int
    kind: str
    state: str
    iccid: str
    plan: str | None = Field(description="Plan code (renewals only)")
    channel: str
    amount: MoneyAmount
    promo_code: str | None
    created_at: datetime
    state_changed_at: datetime


class OrderPage(BaseModel):
    """A partner's orders, newest first. The full order (payments, timeline, receipt) is at
    `GET /v1/orders/{id}`."""

    items: list[OrderListItem]
    next_cursor: str | None = _NEXT


class BundleListItem(BundleSummary):
    order_id: int | None = Field(description="The order that applied it (none for a credit)")
    created_at: datetime


class BundlePage(BaseModel):
    """A card's bundles in every state, newest first."""

    items: list[BundleListItem]
    next_cursor: str | None = _NEXT


class DailyUsageItem(BaseModel):
    day: date = Field(description="Calendar day in Kazakhstan (Asia/Almaty, UTC+5)")
    data_bytes: int = Field(description="Data used that day, bytes")
    voice_seconds: int
    sms_count: int


class DailyUsagePage(BaseModel):
    """Days on which the card used anything, newest first, with what was used (covered by a
    bundle or not). A day's totals grow while its usage records arrive."""

    items: list[DailyUsageItem]
    next_cursor: str | None = _NEXT
