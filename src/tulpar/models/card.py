from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class CardState(enum.StrEnum):
    inventory = "inventory"
    issued = "issued"
    active = "active"
    expired = "expired"
    suspended = "suspended"
    terminated = "terminated"


class Card(Base):
    """One eSIM."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("iccid ~ '^89[0-9]{16,18}$'", name="iccid_format"),
        CheckConstraint("eid IS NULL OR eid ~ '^[0-9]{32}$'", name="eid_format"),
        CheckConstraint("msisdn IS NULL OR msisdn ~ '^\\+[1-9][0-9]{6,14}$'", name="msisdn_e164"),
        CheckConstraint("language IN ('zh-Hans', 'ru', 'kk', 'en')", name="language_supported"),
        Index("ix_cards_state_validity_ends_at", "state", "validity_ends_at"),
        # A recycled number may reappear on a new card once the old one is terminated.
        Index(
            "uq_cards_msisdn_live",
            "msisdn",
            unique=True,
            postgresql_where=text("state <> 'terminated'"),
        ),
        Index("ix_cards_msisdn", "msisdn"),
        # The reminder scheduler's range scans (reminder/repository.py): reachable cards only.
        Index(
            "ix_cards_reminder_due",
            "state",
            "validity_ends_at",
            postgresql_where=text("msisdn IS NOT NULL AND marketing_opt_out_at IS NULL"),
        ),
    )

    id: Mapped[int] = identity_pk()
    iccid: Mapped[str] = mapped_column(String(20), unique=True)
    msisdn: Mapped[str | None] = mapped_column(String(16))
    imsi: Mapped[str | None] = mapped_column(String(15), unique=True)
    eid: Mapped[str | None] = mapped_column(String(32))
    activation_code: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    state: Mapped[CardState] = mapped_column(
        str_enum(CardState, "card_state"), default=CardState.inventory
    )
    # End of the last bundle applied; kept with the bundles in the same transaction.
    validity_ends_at: Mapped[datetime | None]
    state_changed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The traveller texted STOP: no reminders or promotions (codes and confirmations still go).
    # Written by the notification domain, which owns what may be sent to whom.
    marketing_opt_out_at: Mapped[datetime | None]
    # The partner that sold the card (assigned at import or by `tulpar partners assign`): the
    # only partner that may read or renew it (tulpar.auth.service.ensure_may_read_card).
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
