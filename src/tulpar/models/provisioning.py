from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class ProvisioningState(enum.StrEnum):
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"


class CarrierCall(enum.StrEnum):
    apply_bundle = "apply_bundle"
    get_status = "get_status"


class Provisioning(Base):
    """Applying one renewal order's bundle on the carrier, from the first call until it is
    completed (exactly once, by answer, callback or poll) or failed (and refunded).
    ``reference`` is our idempotency key at the carrier."""

    __tablename__ = "provisionings"
    __table_args__ = (
        Index(
            "ix_provisionings_next_check_at",
            "next_check_at",
            postgresql_where=text("state = 'in_progress'"),
        ),
        Index("ix_provisionings_card_id", "card_id"),
    )

    id: Mapped[int] = identity_pk()
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[ProvisioningState] = mapped_column(
        str_enum(ProvisioningState, "provisioning_state")
    )
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    # The validity window sent to the carrier, fixed at the start so every retry of this
    # reference sends the same request.
    bundle_starts_at: Mapped[datetime]
    bundle_expires_at: Mapped[datetime]
    # After this, a carrier that still refuses means the order fails and is refunded.
    retry_until: Mapped[datetime]
    # When the next job is due; the sweep re-enqueues rows left overdue by a lost worker.
    next_check_at: Mapped[datetime | None]
    # The waiting procrastinate job, cancelled once settled so it holds no card lock.
    next_job_id: Mapped[int | None]
    carrier_status: Mapped[str | None] = mapped_column(String(24))
    # When the carrier first answered "pending": from then on we wait for its final word
    # (polling past the retry window, with a ticket) instead of refunding under it.
    accepted_at: Mapped[datetime | None]
    carrier_reference: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    completed_via: Mapped[str | None] = mapped_column(String(16))
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class ProvisioningAttempt(Base):
    """One call to the carrier about one provisioning. Written before the call (intent) and
    finished after it, so a call whose answer was lost is still visible on the timeline."""

    __tablename__ = "provisioning_attempts"
    __table_args__ = (UniqueConstraint("provisioning_id", "number"),)

    id: Mapped[int] = identity_pk()
    provisioning_id: Mapped[int] = mapped_column(ForeignKey("provisionings.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int]
    call: Mapped[CarrierCall] = mapped_column(str_enum(CarrierCall, "carrier_call"))
    # A carrier status, "unavailable", or NULL while the call is in flight (or was lost).
    outcome: Mapped[str | None] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
