from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class DiscountKind(enum.StrEnum):
    none = "none"  # bonus data or days only
    percent = "percent"  # effect_value: whole percent, 1–100
    fixed = "fixed"  # effect_value: KZT minor units off the price


class RedemptionState(enum.StrEnum):
    held = "held"  # the order is placed: counts against the limits
    redeemed = "redeemed"  # the order completed
    released = "released"  # the order expired unpaid or was refunded: given back


class Promotion(Base):
    """A promotion, by ``code`` or ``automatic``. NULL condition columns mean "any".
    ``redeemed_count`` and ``spent_minor`` count what is taken (held or redeemed), the
    figures the limits are checked against; released redemptions are taken back out."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("automatic OR code IS NOT NULL", name="code_or_automatic"),
        CheckConstraint(
            "names ?& array['zh-Hans', 'ru', 'kk', 'en']", name="names_in_all_languages"
        ),
        CheckConstraint(
            "(effect_kind = 'none' AND effect_value = 0)"
            " OR (effect_kind = 'percent' AND effect_value BETWEEN 1 AND 100)"
            " OR (effect_kind = 'fixed' AND effect_value > 0)",
            name="effect_value_fits_kind",
        ),
        CheckConstraint(
            "effect_kind <> 'none' OR bonus_data_bytes > 0 OR bonus_days > 0",
            name="has_an_effect",
        ),
        CheckConstraint("bonus_data_bytes >= 0 AND bonus_days >= 0", name="bonus_non_negative"),
        CheckConstraint(
            "early_renewal_days IS NULL OR early_renewal_days > 0",
            name="early_renewal_days_positive",
        ),
        CheckConstraint(
            "(per_card_limit IS NULL OR per_card_limit > 0)"
            " AND (total_limit IS NULL OR total_limit > 0)"
            " AND (budget_minor IS NULL OR budget_minor > 0)",
            name="limits_positive",
        ),
        CheckConstraint("redeemed_count >= 0 AND spent_minor >= 0", name="counters_non_negative"),
        CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"
        ),
    )

    id: Mapped[int] = identity_pk()
    # Stored upper-case; travellers type codes in any case.
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSONB)
    automatic: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Conditions.
    plan_codes: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    channels: Mapped[list[str] | None] = mapped_column(ARRAY(String(8)))
    payment_methods: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    # Early renewal: the card's validity ends within this many days (and has not ended).
    early_renewal_days: Mapped[int | None]
    first_purchase: Mapped[bool] = mapped_column(default=False, server_default="false")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    # Effect.
    effect_kind: Mapped[DiscountKind] = mapped_column(
        str_enum(DiscountKind, "promotion_effect_kind"), default=DiscountKind.none
    )
    effect_value: Mapped[int] = mapped_column(default=0, server_default="0")
    bonus_data_bytes: Mapped[int] = mapped_column(default=0, server_default="0")
    bonus_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # Limits (NULL: none) and what has been taken of them.
    per_card_limit: Mapped[int | None]
    total_limit: Mapped[int | None]
    budget_minor: Mapped[int | None]  # KZT
    redeemed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    spent_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()


class PromotionRedemption(Base):
    """One order's use of one promotion: held when the order is placed, redeemed when it
    completes, released when it expires unpaid or is refunded."""

    __tablename__ = "promotion_redemptions"
    __table_args__ = (
        CheckConstraint("discount_minor >= 0", name="discount_non_negative"),
        Index("ix_promotion_redemptions_promotion_id", "promotion_id", "card_id", "state"),
        # The promotions report reads its live days by moment.
        Index("ix_promotion_redemptions_created_at", "created_at"),
    )

    id: Mapped[int] = identity_pk()
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    state: Mapped[RedemptionState] = mapped_column(
        str_enum(RedemptionState, "promotion_redemption_state")
    )
    discount_minor: Mapped[int]
    created_at: Mapped[datetime] = created_at_column()
    released_at: Mapped[datetime | None]
