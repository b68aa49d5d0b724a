from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk


class UssdSession(Base):
    """Where one USSD dialogue stands: the menu state, the inputs taken so far and the last
    screen sent, so a gateway that repeats a request gets the same answer and nothing twice.
    Unique on (gateway, the gateway's session id); forgotten once ``expires_at`` passes."""

    __tablename__ = "ussd_sessions"
    __table_args__ = (
        UniqueConstraint("gateway", "session_id"),
        Index("ix_ussd_sessions_expires_at", "expires_at"),
    )

    id: Mapped[int] = identity_pk()
    gateway: Mapped[str] = mapped_column(String(16))  # "africastalking", "json"
    session_id: Mapped[str] = mapped_column(String(100))  # the gateway's
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    msisdn: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Every input so far joined by "*", as the Africa's Talking convention sends them.
    path: Mapped[str] = mapped_column(Text, default="")
    screen: Mapped[str] = mapped_column(Text)  # the last reply, prefix included
    # The order this session placed: the guard that makes a repeated "pay" place one only.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
