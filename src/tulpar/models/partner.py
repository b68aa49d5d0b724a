from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk


class Partner(Base):
    """A reseller or carrier system that calls the API with a key."""

    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(
            "requests_per_minute IS NULL OR requests_per_minute > 0",
            name="requests_per_minute_positive",
        ),
    )

    id: Mapped[int] = identity_pk()
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # All of this partner's keys together, per web process; None: no per-key limit (a USSD
    # gateway or a large partner sends thousands of travellers' traffic from one key).
    requests_per_minute: Mapped[int | None]
    created_at: Mapped[datetime] = created_at_column()


class ApiKey(Base):
    """Only a SHA-256 of the secret is stored; the key is shown once when created."""

    __tablename__ = "api_keys"

    id: Mapped[int] = identity_pk()
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
