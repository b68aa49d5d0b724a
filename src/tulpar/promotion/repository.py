from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from tulpar.models import Promotion, PromotionRedemption, RedemptionState

_TAKEN = (RedemptionState.held, RedemptionState.redeemed)


def by_code(session: Session, code: str) -> Promotion | None:
    return session.scalars(select(Promotion).where(Promotion.code == code)).one_or_none()


def get(session: Session, promotion_id: int, *, for_update: bool = False) -> Promotion | None:
    return session.get(Promotion, promotion_id, populate_existing=True, with_for_update=for_update)


def automatic_in_window(session: Session, *, now: datetime) -> list[Promotion]:
    """Active automatic promotions whose window contains ``now`` (conditions not yet read)."""
    query = (
        select(Promotion)
        .where(
            Promotion.automatic,
            Promotion.active,
            or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now),
            or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
        )
        .order_by(Promotion.id)
    )
    return list(session.scalars(query))


def lock(session: Session, promotion_ids: Sequence[int]) -> list[Promotion]:
    """Lock the promotions in primary-key order (so two placements never wait on each other
    in a circle) and read them as they are now that nobody else can take from them."""
    if not promotion_ids:
        return []
    query = (
        select(Promotion)
        .where(Promotion.id.in_(sorted(set(promotion_ids))))
        .order_by(Promotion.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def taken_by_card(session: Session, promotion_id: int, card_id: int) -> int:
    query = select(func.count()).where(
        PromotionRedemption.promotion_id == promotion_id,
        PromotionRedemption.card_id == card_id,
        PromotionRedemption.state.in_(_TAKEN),
    )
    return int(session.scalar(query) or 0)


def take(session: Session, promotion_id: int, *, discount_minor: int) -> None:
    """Count one more redemption against the limits (the row is locked by :func:`lock`)."""
    session.execute(
        text(
            "UPDATE promotions SET redeemed_count = redeemed_count + 1,"
            " spent_minor = spent_minor + :discount WHERE id = :id"
        ),
        {"id": promotion_id, "discount": discount_minor},
    )


def add_redemption(session: Session, redemption: PromotionRedemption) -> PromotionRedemption:
    session.add(redemption)
    session.flush()
    return redemption


# Moves one order's redemption and gives its count and money back to (or takes them again
# from) the promotion, in one statement: the redemption row is the one the UPDATE matched,
# so a second caller finds nothing to move and changes nothing.
_MOVE = text(
    """
    WITH moved AS (
        UPDATE promotion_redemptions SET state = :to_state, released_at = :released_at
        WHERE order_id = :order_id AND state = ANY(:from_states)
        RETURNING promotion_id, discount_minor
    )
    UPDATE promotions SET
        redeemed_count = redeemed_count + :sign,
        spent_minor = spent_minor + :sign * moved.discount_minor
    FROM moved WHERE promotions.id = moved.promotion_id
    RETURNING promotions.id
    """
)


def move(
    session: Session,
    order_id: int,
    *,
    from_states: Sequence[RedemptionState],
    to_state: RedemptionState,
    sign: int,
    released_at: datetime | None,
) -> bool:
    row = session.execute(
        _MOVE,
        {
            "order_id": order_id,
            "from_states": [state.value for state in from_states],
            "to_state": to_state.value,
            "sign": sign,
            "released_at": released_at,
        },
    ).first()
    return row is not None


def mark_redeemed(session: Session, order_id: int) -> bool:
    """held → redeemed (the counts already include it)."""
    result = session.execute(
        text(
            "UPDATE promotion_redemptions SET state = 'redeemed'"
            " WHERE order_id = :order_id AND state = 'held' RETURNING id"
        ),
        {"order_id": order_id},
    )
    return result.first() is not None


# Held or redeemed redemptions of orders that will never be paid for (expired unpaid) or
# whose money went back (refunded): each is released and its count and money given back,
# set-based. ``promotion_id`` NULL: every promotion.
_RELEASE_LAPSED = text(
    """
    WITH lapsed AS (
        UPDATE promotion_redemptions r SET state = 'released', released_at = :now
        FROM orders o
        WHERE o.id = r.order_id AND r.state IN ('held', 'redeemed')
          AND o.state IN ('expired', 'refunded')
          AND (CAST(:promotion_id AS bigint) IS NULL OR r.promotion_id = :promotion_id)
        RETURNING r.promotion_id, r.discount_minor
    ), totals AS (
        SELECT promotion_id, count(*) AS released, sum(discount_minor) AS discount
        FROM lapsed GROUP BY promotion_id
    )
    UPDATE promotions p SET
        redeemed_count = p.redeemed_count - totals.released,
        spent_minor = p.spent_minor - totals.discount
    FROM totals WHERE p.id = totals.promotion_id
    RETURNING totals.released
    """
)


_WITH_LAPSED = text(
    """
    SELECT DISTINCT r.promotion_id FROM promotion_redemptions r JOIN orders o ON o.id = r.order_id
    WHERE r.state IN ('held', 'redeemed') AND o.state IN ('expired', 'refunded')
    ORDER BY r.promotion_id
    """
)


def with_lapsed(session: Session) -> list[int]:
    """The promotions that have redemptions to give back, by id."""
    return [int(promotion_id) for promotion_id in session.scalars(_WITH_LAPSED)]


def release_lapsed(session: Session, *, now: datetime, promotion_id: int | None) -> int:
    rows = session.execute(_RELEASE_LAPSED, {"now": now, "promotion_id": promotion_id})
    return sum(int(row.released) for row in rows)


def redemption_of(session: Session, order_id: int) -> PromotionRedemption | None:
    query = select(PromotionRedemption).where(PromotionRedemption.order_id == order_id)
    return session.scalars(query).one_or_none()


def all_promotions(session: Session) -> list[Promotion]:
    return list(session.scalars(select(Promotion).order_by(Promotion.id.desc())))


def add(session: Session, promotion: Promotion) -> Promotion:
    session.add(promotion)
    session.flush()
    return promotion
