from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, identity_pk


class InboxMessage(Base):
    """Something the outside world sent us (a payment webhook, a carrier callback, an SMS
    delivery report, an inbound SMS), stored before anything else happens. Unique on
    (source, external id), so replays find it there; the ``inbox.handle`` job handles it once
    and stamps ``handled_at``."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index(
            "ix_inbox_messages_unhandled",
            "received_at",
            postgresql_where=text("handled_at IS NULL"),
        ),
        Index("ix_inbox_messages_source_subject", "source", "subject"),
    )

    id: Mapped[int] = identity_pk()
    source: Mapped[str] = mapped_column(String(16))  # "sandbox", "stripe", "carrier", …
    external_id: Mapped[str] = mapped_column(String(255))  # the sender's event id
    kind: Mapped[str] = mapped_column(String(64))  # the sender's event type or status
    # What the message is about, when the sender says so (a provisioning reference, …).
    subject: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
