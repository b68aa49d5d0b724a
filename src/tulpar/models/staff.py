"""The operator's people: stores, staff users, their sign-in sessions, and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum

# A store code: letters, a dash, digits (``ALA-01``). Dropping the dash stays unique, which
# makes the store's receipt issuer (``STORE-ALA01``, see :attr:`Store.receipt_issuer`).
STORE_CODE_PATTERN = r"^[A-Z]{2,6}-[0-9]{2,4}$"
STAFF_LANGUAGES = ("en", "zh-Hans", "ru", "kk")


class StaffRole(enum.StrEnum):
    clerk = "clerk"  # sells at their own store
    store_manager = "store_manager"  # their store's staff, reports and day close
    support = "support"  # all cards and orders, refunds, manual credits, tickets
    admin = "admin"  # everything, including catalog, stores and staff


# Roles that belong to one store (``staff_users.store_id`` required) and sell on its counter.
STORE_ROLES = frozenset({StaffRole.clerk, StaffRole.store_manager})
# Roles that must pass a TOTP second factor at every sign-in.
SECOND_FACTOR_ROLES = frozenset({StaffRole.support, StaffRole.admin})


class Store(Base):
    """An authorised outlet. Its legal details are printed on the receipts it issues."""

    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint(f"code ~ '{STORE_CODE_PATTERN}'", name="code_format"),
        CheckConstraint("bin ~ '^[0-9]{12}$'", name="bin_twelve_digits"),
    )

    id: Mapped[int] = identity_pk()
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(240))
    opening_hours: Mapped[str] = mapped_column(Text)
    legal_name: Mapped[str] = mapped_column(String(200))
    bin: Mapped[str] = mapped_column(String(12))  # Kazakh business identification number
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()

    @property
    def receipt_issuer(self) -> str:
        """The issuer its receipts are numbered under, gapless per store: ``STORE-ALA01``."""
        return "STORE-" + self.code.replace("-", "")


class StaffUser(Base):
    """A person who signs in to the staff pages. ``username`` is unique ignoring case."""

    __tablename__ = "staff_users"
    __table_args__ = (
        Index("uq_staff_users_username_lower", text("lower(username)"), unique=True),
        Index("ix_staff_users_store_id", "store_id"),
        CheckConstraint(
            "(role IN ('clerk', 'store_manager')) = (store_id IS NOT NULL)",
            name="store_for_store_roles",
        ),
        CheckConstraint("language IN ('zh-Hans', 'ru', 'kk', 'en')", name="language_supported"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_non_negative"),
    )

    id: Mapped[int] = identity_pk()
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is kept, so a copy of this table
    signs nobody in. ``second_factor_at`` stays NULL until the TOTP step is passed."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_staff_id", "staff_id"),)

    id: Mapped[int] = identity_pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute end; idle expiry is counted from last_seen_at
    second_factor_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    csrf_secret: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One staff action on money, balances, catalog or access, or one card lookup. A trigger
    (migration 0013) refuses UPDATE, DELETE and TRUNCATE: the log only grows."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_staff_id", "staff_id"),
        Index("ix_audit_log_store_id", "store_id"),
        Index("ix_audit_log_subject", "subject"),
    )

    id: Mapped[int] = identity_pk()
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
