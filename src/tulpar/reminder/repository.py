"""The scheduler's queries: cards whose reminder of one kind is due, through
``ix_cards_reminder_due`` (state, validity_ends_at; reachable cards only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tulpar.models import Card, CardState

# One range of the partial index per kind. The dedupe key is built from the card's CURRENT
# validity end, so a renewal moves the card out of the range of its old end (whose pending
# reminder therefore never goes) and the new end gets keys of its own. Already-sent
# reminders are skipped through the notifications' unique dedupe key index; the LIMIT keeps
# a pass bounded whatever the backlog (08:00 after quiet hours).
DUE = text(
    """
    SELECT c.id AS card_id, c.validity_ends_at, k.dedupe_key
    FROM cards AS c
    CROSS JOIN LATERAL (
        SELECT 'reminder:' || CAST(:kind AS text) || ':' || c.id || ':'
               || CAST(extract(epoch FROM c.validity_ends_at) AS bigint) AS dedupe_key
    ) AS k
    WHERE c.state = :state
      AND c.msisdn IS NOT NULL
      AND c.marketing_opt_out_at IS NULL
      AND c.validity_ends_at > :ends_after
      AND c.validity_ends_at <= :ends_by
      AND NOT EXISTS (SELECT 1 FROM notifications AS n WHERE n.dedupe_key = k.dedupe_key)
    ORDER BY c.validity_ends_at, c.id
    LIMIT :limit
    """
)


@dataclass(frozen=True, slots=True)
class DueReminder:
    card_id: int
    validity_ends_at: datetime
    dedupe_key: str


def due(
    session: Session,
    *,
    kind: str,
    state: CardState,
    ends_after: datetime,
    ends_by: datetime,
    limit: int,
) -> list[DueReminder]:
    """Cards in ``state`` with a validity end in (``ends_after``, ``ends_by``] whose ``kind``
    reminder for that end was not queued yet, soonest end first, at most ``limit``."""
    rows = session.execute(
        DUE,
        {
            "kind": kind,
            "state": state.value,
            "ends_after": ends_after,
            "ends_by": ends_by,
            "limit": limit,
        },
    )
    return [DueReminder(row.card_id, row.validity_ends_at, row.dedupe_key) for row in rows]


def load_cards(session: Session, card_ids: list[int]) -> None:
    """Load a batch's cards in one statement, so queueing each SMS finds its card in the
    session instead of asking the database again."""
    if card_ids:
        session.scalars(select(Card).where(Card.id.in_(card_ids))).all()
