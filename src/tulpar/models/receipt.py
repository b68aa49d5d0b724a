from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk


class ReceiptCounter(Base):
    """The last receipt number of one issuer; bumped in the issuing transaction (gapless)."""

    __tablename__ = "receipt_counters"
    __table_args__ = (CheckConstraint("last_number > 0", name="number_positive"),)

    issuer: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int]


class Receipt(Base):
    """A signed, immutable proof of payment. Amounts include VAT."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("issuer", "sequence_number", name="uq_receipts_issuer_sequence_number"),
        CheckConstraint("total_minor >= 0", name="total_non_negative"),
        CheckConstraint("vat_minor >= 0 AND vat_minor <= total_minor", name="vat_within_total"),
        CheckConstraint(
            "(seller_legal_name IS NULL) = (seller_bin IS NULL)"
            " AND (seller_bin IS NULL) = (seller_address IS NULL)",
            name="seller_all_or_none",
        ),
        # One sale receipt per order: a retried issue returns the existing one.
        Index(
            "uq_receipts_order_id",
            "order_id",
            unique=True,
            postgresql_where=text("order_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = identity_pk()
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    issuer: Mapped[str] = mapped_column(String(40))
    sequence_number: Mapped[int]
    number: Mapped[str] = mapped_column(String(60), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    order_id: Mapped[int | None]  # orders arrive in a later migration; no FK here
    card_masked: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total_minor: Mapped[int]
    vat_rate_basis_points: Mapped[int]
    vat_minor: Mapped[int]
    payment_method: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))
    # A store receipt's seller, frozen when issued (migration 0014); None: the default seller.
    seller_legal_name: Mapped[str | None] = mapped_column(String(200))
    seller_bin: Mapped[str | None] = mapped_column(String(12))
    seller_address: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = created_at_column()
