from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class LedgerAccount(enum.StrEnum):
    wallet = "wallet"
    data = "data"
    voice = "voice"
    sms = "sms"


class LedgerCause(enum.StrEnum):
    order = "order"
    usage = "usage"
    promotion = "promotion"
    expiry = "expiry"
    refund = "refund"
    manual_credit = "manual_credit"
    rollover = "rollover"
    replacement = "replacement"


class LedgerEntry(Base):
    """Append-only: one change of one wallet or one bundle allowance, with its cause and the
    value before. Never updated, never deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("balance_after = balance_before + delta", name="arithmetic"),
        CheckConstraint("balance_after >= 0", name="never_negative"),
        CheckConstraint("(account = 'wallet') = (bundle_id IS NULL)", name="bundle_iff_allowance"),
        Index("ix_ledger_entries_card_id_created_at", "card_id", "created_at"),
        Index("ix_ledger_entries_bundle_id", "bundle_id"),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundles.id"))
    account: Mapped[LedgerAccount] = mapped_column(str_enum(LedgerAccount, "ledger_account"))
    delta: Mapped[int]
    balance_before: Mapped[int]
    balance_after: Mapped[int]
    cause: Mapped[LedgerCause] = mapped_column(str_enum(LedgerCause, "ledger_cause"))
    order_id: Mapped[int | None]
    usage_record_id: Mapped[int | None]
    actor: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
