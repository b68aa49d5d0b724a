"""What a webhook's body holds, per event type: the documented shape (the OpenAPI
``webhooks`` section is built from these models) of the JSON Tulpar sends. The data itself
is written by SQL where the event is recorded (repository.py, migration 0017); tests check
every kind of body against these models."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

Data = TypeVar("Data", bound=BaseModel)


class CardRef(BaseModel):
    iccid: str = Field(description="The card's ICCID (digits, no pad)")


class CardWithValidity(CardRef):
    validity_ends_at: str | None = Field(
        description="The card's validity end (UTC, ISO 8601) when the event was recorded"
    )


class OrderData(BaseModel):
    id: int
    kind: Literal["plan_renewal", "wallet_topup"]
    state: Literal["completed", "refunded", "provisioning_failed"]
    plan_code: str | None = Field(description="The plan bought; null for a wallet top-up")
    channel: str
    amount_minor: int = Field(description="What was paid, in minor units of ``currency``")
    currency: str


class OrderEventData(BaseModel):
    order: OrderData
    card: CardWithValidity
    reason: str = Field(description="Why the order moved, as its timeline says")


class DataThresholdData(BaseModel):
    card: CardRef
    threshold_percent: Literal[75, 90, 100]
    bundle_id: int
    plan_code: str
    crossed_at: str = Field(description="When the usage that crossed it occurred (UTC)")


class ExpiringData(BaseModel):
    card: CardWithValidity
    hours_before: Literal[72, 24]


class WebhookEvent(BaseModel, Generic[Data]):
    """The body of every webhook. Verify ``Tulpar-Signature`` on the raw body first; the
    same ``id`` can arrive more than once (delivery is at least once; a replay keeps it)."""

    id: str = Field(description="Unique event id (``evt_…``): dedupe on it")
    type: str
    created_at: str = Field(description="When it happened (UTC, ISO 8601)")
    data: Data


class OrderCompleted(WebhookEvent[OrderEventData]):
    type: Literal["order.completed"]


class OrderRefunded(WebhookEvent[OrderEventData]):
    type: Literal["order.refunded"]


class OrderProvisioningFailed(WebhookEvent[OrderEventData]):
    type: Literal["order.provisioning_failed"]


class CardDataThreshold(WebhookEvent[DataThresholdData]):
    type: Literal["card.data_threshold"]


class CardExpiring(WebhookEvent[ExpiringData]):
    type: Literal["card.expiring"]


BODIES: dict[str, type[BaseModel]] = {
    "order.completed": OrderCompleted,
    "order.refunded": OrderRefunded,
    "order.provisioning_failed": OrderProvisioningFailed,
    "card.data_threshold": CardDataThreshold,
    "card.expiring": CardExpiring,
}
