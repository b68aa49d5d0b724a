from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk


class OtpChallenge(Base):
    """One verification code sent (or pretended to be sent) for a card reference.

    ``subject`` is ``card:<id>`` for a known card and ``ref:<keyed hash>`` for anything else,
    so unknown references are rate-limited and locked out exactly like real cards."""

    __tablename__ = "otp_challenges"
    __table_args__ = (
        CheckConstraint("attempts >= 0 AND attempts <= 5", name="attempts_bounded"),
        CheckConstraint("expires_at > created_at", name="window_positive"),
        Index("ix_otp_challenges_subject_created_at", "subject", "created_at"),
        Index("ix_otp_challenges_client_address_created_at", "client_address", "created_at"),
    )

    id: Mapped[int] = identity_pk()
    subject: Mapped[str] = mapped_column(String(80))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    client_address: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of the code under the OTP secret; NULL when no card (nothing can match).
    code_hmac: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class TravellerToken(Base):
    """A short-lived bearer token for one card, issued after a verified OTP. Stored hashed."""

    __tablename__ = "traveller_tokens"

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("otp_challenges.id"), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
