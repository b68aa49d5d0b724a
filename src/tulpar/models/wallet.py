from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base


class Wallet(Base):
    """Money held on a card, in KZT minor units. Moves only through ledger entries."""

    __tablename__ = "wallets"
    __table_args__ = (CheckConstraint("balance_minor >= 0", name="balance_non_negative"),)

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), default="KZT")
    balance_minor: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
