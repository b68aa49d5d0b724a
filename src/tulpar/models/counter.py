"""The store counter: sales taken at a store, their fiscal registrations and day closes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class CounterMethod(enum.StrEnum):
    cash = "cash"
    card_terminal = "card_terminal"


class CounterSale(Base):
    """An order sold at a store's counter: who sold it, where, and how the money was taken.
    ``(staff_id, idempotency_key)`` makes a double submit the same sale."""

    __tablename__ = "counter_sales"
    __table_args__ = (
        CheckConstraint(
            "(method = 'card_terminal') = (terminal_reference IS NOT NULL)",
            name="terminal_reference_iff_terminal",
        ),
        UniqueConstraint("order_id"),
        UniqueConstraint("staff_id", "idempotency_key"),
        Index("ix_counter_sales_store_id_business_date", "store_id", "business_date"),
    )

    id: Mapped[int] = identity_pk()
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    method: Mapped[CounterMethod] = mapped_column(str_enum(CounterMethod, "method"))
    terminal_reference: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    business_date: Mapped[date]
    created_at: Mapped[datetime] = created_at_column()


class FiscalState(enum.StrEnum):
    pending = "pending"  # not yet accepted by the fiscal data operator (retried by a job)
    registered = "registered"


class FiscalRegistration(Base):
    """A store receipt reported to the fiscal data operator, and the sign it gave back."""

    __tablename__ = "fiscal_registrations"
    __table_args__ = (
        CheckConstraint(
            "(state = 'registered') = (fiscal_sign IS NOT NULL)", name="sign_iff_registered"
        ),
        UniqueConstraint("receipt_id"),
    )

    id: Mapped[int] = identity_pk()
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    state: Mapped[FiscalState] = mapped_column(str_enum(FiscalState, "state"))
    provider: Mapped[str] = mapped_column(String(32))
    fiscal_sign: Mapped[str | None] = mapped_column(String(64))
    registration_number: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class DayCloseState(enum.StrEnum):
    closed = "closed"
    reopened = "reopened"


class DayClose(Base):
    """A store's (``staff_id`` None) or one clerk's day, closed: ``figures`` are frozen."""

    __tablename__ = "day_closes"
    __table_args__ = (
        Index(
            "uq_day_closes_store_day_staff",
            "store_id",
            "business_date",
            text("coalesce(staff_id, 0)"),
            unique=True,
        ),
    )

    id: Mapped[int] = identity_pk()
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    business_date: Mapped[date]
    state: Mapped[DayCloseState] = mapped_column(str_enum(DayCloseState, "state"))
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB)
    closed_by: Mapped[str] = mapped_column(String(120))
    closed_at: Mapped[datetime]
    reopened_by: Mapped[str | None] = mapped_column(String(120))
    reopened_at: Mapped[datetime | None]
    reopen_reason: Mapped[str | None] = mapped_column(Text)
