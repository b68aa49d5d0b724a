from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class RenewalPolicy(enum.StrEnum):
    extend = "extend"
    queue = "queue"


class Channel(enum.StrEnum):
    web = "web"
    ussd = "ussd"
    sms = "sms"
    store = "store"
    api = "api"


class Plan(Base):
    """A sellable product. An allowance column that is NULL means unlimited.

    A retired plan (``retired_at``) is sold nowhere again: retiring also closes its sale
    window, which every channel already checks, and the database holds that to be so. It
    is never deleted once sold (orders and bundles keep their foreign keys to it)."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("validity_days > 0", name="validity_positive"),
        CheckConstraint("data_bytes IS NULL OR data_bytes >= 0", name="data_non_negative"),
        CheckConstraint("voice_seconds IS NULL OR voice_seconds >= 0", name="voice_non_negative"),
        CheckConstraint("sms_count IS NULL OR sms_count >= 0", name="sms_non_negative"),
        CheckConstraint(
            "names ?& array['zh-Hans', 'ru', 'kk', 'en']", name="names_in_all_languages"
        ),
        CheckConstraint(
            "sellable_from IS NULL OR sellable_until IS NULL OR sellable_from <= sellable_until",
            name="window_ordered",
        ),
        CheckConstraint(
            "retired_at IS NULL OR (sellable_until IS NOT NULL AND sellable_until <= retired_at)",
            name="retired_not_on_sale",
        ),
        CheckConstraint(
            "channels <@ ARRAY['web', 'ussd', 'sms', 'store', 'api']::varchar(8)[]",
            name="channels_known",
        ),
    )

    id: Mapped[int] = identity_pk()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSONB)
    data_bytes: Mapped[int | None]
    voice_seconds: Mapped[int | None]
    sms_count: Mapped[int | None]
    validity_days: Mapped[int]
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    sellable_from: Mapped[datetime | None]
    sellable_until: Mapped[datetime | None]
    renewal_policy: Mapped[RenewalPolicy] = mapped_column(
        str_enum(RenewalPolicy, "renewal_policy"), default=RenewalPolicy.extend
    )
    rollover: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    prices: Mapped[list[PlanPrice]] = relationship(
        back_populates="plan", lazy="raise", order_by="PlanPrice.currency"
    )


class PlanPrice(Base):
    __tablename__ = "plan_prices"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_non_negative"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount_minor: Mapped[int]

    plan: Mapped[Plan] = relationship(back_populates="prices", lazy="raise")
