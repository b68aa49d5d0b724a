from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class BundleState(enum.StrEnum):
    scheduled = "scheduled"
    active = "active"
    exhausted = "exhausted"
    expired = "expired"
    revoked = "revoked"


class Bundle(Base):
    """One plan applied to one card. ``*_granted`` NULL means unlimited (and so does the
    matching ``*_remaining``). Stored with fillfactor 80 (migration 0001) so rating's
    frequent updates of the remaining allowances stay on their page."""

    __tablename__ = "bundles"
    __table_args__ = (
        CheckConstraint("expires_at > starts_at", name="window_positive"),
        CheckConstraint(
            "(data_bytes_granted IS NULL) = (data_bytes_remaining IS NULL)"
            " AND data_bytes_remaining >= 0",
            name="data_remaining_valid",
        ),
        CheckConstraint(
            "(voice_seconds_granted IS NULL) = (voice_seconds_remaining IS NULL)"
            " AND voice_seconds_remaining >= 0",
            name="voice_remaining_valid",
        ),
        CheckConstraint(
            "(sms_count_granted IS NULL) = (sms_count_remaining IS NULL)"
            " AND sms_count_remaining >= 0",
            name="sms_remaining_valid",
        ),
        Index("ix_bundles_card_id_expires_at", "card_id", "expires_at"),
        Index(
            "ix_bundles_replaced_validity_ends_at",
            "replaced_validity_ends_at",
            "card_id",
            postgresql_where=text("replaced_validity_ends_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    order_id: Mapped[int | None]
    state: Mapped[BundleState] = mapped_column(str_enum(BundleState, "bundle_state"))
    starts_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    data_bytes_granted: Mapped[int | None]
    data_bytes_remaining: Mapped[int | None]
    voice_seconds_granted: Mapped[int | None]
    voice_seconds_remaining: Mapped[int | None]
    sms_count_granted: Mapped[int | None]
    sms_count_remaining: Mapped[int | None]
    # occurred_at of the newest usage record rated against this bundle. With the overages it
    # answers the balance's "usage as of" without an index on usage_records (see there).
    last_usage_at: Mapped[datetime | None]
    # The card's validity end when this plan was applied (NULL: its first plan), the end this
    # renewal replaced: what the renewal-rate report counts renewals against.
    replaced_validity_ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
