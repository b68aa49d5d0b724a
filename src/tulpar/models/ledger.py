from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
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
    value before. Never updated, never deleted.

    Its references (the card; for an allowance, a bundle of that card) are checked by a
    statement-level trigger (migration 0001) rather than foreign keys: rating writes one entry
    per deduction, and two key lookups per row cost more than all the rest of the ledger
    write. Nothing reads entries by card or bundle except whole-table reconciliation, so no
    secondary index slows the inserts down either."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("balance_after = balance_before + delta", name="arithmetic"),
        CheckConstraint("balance_after >= 0", name="never_negative"),
        CheckConstraint("(account = 'wallet') = (bundle_id IS NULL)", name="bundle_iff_allowance"),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int]
    bundle_id: Mapped[int | None]
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
