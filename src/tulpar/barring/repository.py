from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tulpar.models import Card, ServiceBar

# A card with an open bar is skipped (partial unique index), so each run-out bars once.
_BAR_WITHOUT_DATA = text(
    """
    INSERT INTO service_bars (card_id, reason, barred_at)
    SELECT c.id, :reason, :now FROM unnest(CAST(:card_ids AS bigint[])) AS c(id)
    WHERE NOT EXISTS (
        SELECT 1 FROM bundles b
        WHERE b.card_id = c.id AND b.state <> 'revoked'
          AND b.starts_at <= :now AND :now < b.expires_at
          AND coalesce(b.data_bytes_remaining, 1) > 0
    )
    ORDER BY c.id
    ON CONFLICT (card_id) WHERE lifted_at IS NULL DO NOTHING
    RETURNING id, card_id
    """
)


def bar_without_data(
    session: Session, card_ids: Sequence[int], *, reason: str, now: datetime
) -> list[tuple[int, int]]:
    """Open a bar for each card with no data left right now; (bar id, card id) pairs."""
    rows = session.execute(
        _BAR_WITHOUT_DATA, {"card_ids": list(card_ids), "reason": reason, "now": now}
    )
    return [(int(bar_id), int(card_id)) for bar_id, card_id in rows]


def lift_open(session: Session, card_id: int, *, now: datetime) -> list[int]:
    result = session.execute(
        update(ServiceBar)
        .where(ServiceBar.card_id == card_id, ServiceBar.lifted_at.is_(None))
        .values(lifted_at=now)
        .returning(ServiceBar.id)
    )
    return [int(bar_id) for bar_id in result.scalars()]


def get_with_card(session: Session, bar_id: int) -> tuple[ServiceBar, Card] | None:
    query = (
        select(ServiceBar, Card)
        .join(Card, Card.id == ServiceBar.card_id)
        .where(ServiceBar.id == bar_id)
        .with_for_update(of=ServiceBar)
    )
    row = session.execute(query).one_or_none()
    return None if row is None else (row[0], row[1])


def open_for_card(session: Session, card_id: int) -> ServiceBar | None:
    query = select(ServiceBar).where(ServiceBar.card_id == card_id, ServiceBar.lifted_at.is_(None))
    return session.scalars(query).one_or_none()
