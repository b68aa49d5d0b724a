"""The promotion engine every channel uses: the best promotion for a purchase (by code or
automatic), taken against its limits under a lock when the order is placed, redeemed when
the order completes, given back when it expires unpaid or is refunded.

A redemption is *held* from the moment the order is placed: it counts against the total,
per-card and budget limits at once, so 50 concurrent orders for the last 10 redemptions get
exactly 10. The promotion rows are locked (primary-key order) before their limits are read,
so the counts read are the committed ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.errors import TulparError
from tulpar.models import Promotion, PromotionRedemption, RedemptionState
from tulpar.promotion import repository
from tulpar.promotion.rules import Mismatch, Purchase, Terms, mismatch, terms, worth_minor

__all__ = [
    "Offer",
    "PromoCodeExpiredError",
    "PromoCodeNotApplicableError",
    "PromoCodeUnknownError",
    "PromoCodeUsedUpError",
    "Purchase",
    "best_offer",
    "get",
    "hold",
    "normal_code",
    "redeem",
    "release",
    "release_lapsed",
    "take_best",
]


class PromoCodeUnknownError(TulparError):
    status = 422
    code = "promo_code_unknown"
    title = "This promotion code is not valid"


class PromoCodeExpiredError(TulparError):
    status = 422
    code = "promo_code_expired"
    title = "This promotion code has expired"


class PromoCodeUsedUpError(TulparError):
    status = 422
    code = "promo_code_used_up"
    title = "This promotion code has been used up"


class PromoCodeNotApplicableError(TulparError):
    status = 422
    code = "promo_code_not_applicable"
    title = "This promotion code does not apply to this purchase"


@dataclass(frozen=True, slots=True)
class Offer:
    """The promotion a purchase gets and what it gives, as the quote shows it and the order
    freezes it."""

    promotion_id: int
    code: str | None
    names: dict[str, str]
    terms: Terms
    worth_minor: int

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


def normal_code(code: str) -> str:
    """Codes are compared upper-case, without surrounding spaces."""
    return code.strip().upper()


def best_offer(session: Session, purchase: Purchase, *, code: str | None = None) -> Offer | None:
    """The best promotion for ``purchase`` (the quote's answer), reading limits without a
    lock: placing the order decides again under one. A ``code`` that cannot be used raises
    why (unknown, expired, used up, not applicable); a usable code competes with the
    automatic promotions and the best for the traveller wins."""
    return _evaluate(session, _promotions(session, purchase, code=code), purchase, code=code)


def take_best(session: Session, purchase: Purchase, *, code: str | None = None) -> Offer | None:
    """Like :func:`best_offer`, for placing the order: the candidate promotions are locked
    until the transaction ends and their limits read under the lock. :func:`hold` then
    counts the chosen one for the order."""
    candidates = _promotions(session, purchase, code=code)
    locked = repository.lock(session, [promotion.id for promotion in candidates])
    for promotion in locked:
        # Orders that expired unpaid or were refunded give their redemptions back before
        # anyone reads what is left.
        if repository.release_lapsed(session, now=purchase.now, promotion_id=promotion.id):
            repository.get(session, promotion.id)  # re-read the counters
    return _evaluate(session, locked, purchase, code=code)


def hold(session: Session, offer: Offer, *, order_id: int, card_id: int) -> PromotionRedemption:
    """Count ``offer`` against its promotion's limits for ``order_id`` (after
    :func:`take_best`, in the same transaction)."""
    repository.take(session, offer.promotion_id, discount_minor=offer.terms.discount_minor)
    return repository.add_redemption(
        session,
        PromotionRedemption(
            promotion_id=offer.promotion_id,
            order_id=order_id,
            card_id=card_id,
            state=RedemptionState.held,
            discount_minor=offer.terms.discount_minor,
        ),
    )


def redeem(session: Session, order_id: int) -> bool:
    """The order completed: its redemption is final. One given back meanwhile (the order
    expired, then a late payment was honoured) is taken again, past the limits if need be:
    the traveller paid the promoted price. False when the order has no redemption to move."""
    redemption = repository.redemption_of(session, order_id)
    if redemption is None:
        return False
    repository.lock(session, [redemption.promotion_id])
    if repository.mark_redeemed(session, order_id):
        return True
    return repository.move(
        session,
        order_id,
        from_states=(RedemptionState.released,),
        to_state=RedemptionState.redeemed,
        sign=1,
        released_at=None,
    )


def release(session: Session, order_id: int, *, now: datetime | None = None) -> bool:
    """Give the order's redemption back (expired unpaid, refunded). False when there was
    none to give back (no promotion, or already given back)."""
    redemption = repository.redemption_of(session, order_id)
    if redemption is None:
        return False
    repository.lock(session, [redemption.promotion_id])
    return repository.move(
        session,
        order_id,
        from_states=(RedemptionState.held, RedemptionState.redeemed),
        to_state=RedemptionState.released,
        sign=-1,
        released_at=now or clock.now(),
    )


def release_lapsed(session: Session, *, now: datetime) -> int:
    """Give back every redemption whose order expired unpaid or was refunded (the periodic
    sweep; placing an order also does it for the promotions it reads)."""
    released = 0
    # One promotion at a time, its row locked first, in id order: the order placements take
    # their locks in (promotion row, then redemptions).
    for promotion_id in repository.with_lapsed(session):
        repository.lock(session, [promotion_id])
        released += repository.release_lapsed(session, now=now, promotion_id=promotion_id)
    return released


def _promotions(session: Session, purchase: Purchase, *, code: str | None) -> list[Promotion]:
    """The automatic promotions in their window, plus the one of ``code``."""
    promotions = repository.automatic_in_window(session, now=purchase.now)
    if code is not None:
        coded = repository.by_code(session, normal_code(code))
        if coded is None:
            raise PromoCodeUnknownError(f"The code {code!r} is not a known promotion")
        if coded.id not in {promotion.id for promotion in promotions}:
            promotions.append(coded)
    return promotions


def _evaluate(
    session: Session, promotions: list[Promotion], purchase: Purchase, *, code: str | None
) -> Offer | None:
    """The best offer among ``promotions``; the typed ``code`` raises why it cannot be used,
    the automatic ones that cannot are simply left out."""
    wanted = None if code is None else normal_code(code)
    offers = []
    for promotion in promotions:
        why = mismatch(promotion, purchase)
        given = None if why is not None else terms(promotion, purchase)
        offer = (
            None
            if given is None or not given.gives_something
            else _offer(promotion, given, purchase)
        )
        limit = None if offer is None else _limit_reached(session, promotion, purchase, offer)
        if wanted is not None and promotion.code == wanted:
            _refuse_code(promotion, why=why, offer=offer, limit=limit)
        if offer is not None and limit is None:
            offers.append(offer)
    # The most worth to the traveller; on a tie the older promotion, so the choice is stable.
    return max(offers, key=lambda offer: (offer.worth_minor, -offer.promotion_id), default=None)


def _refuse_code(
    promotion: Promotion, *, why: Mismatch | None, offer: Offer | None, limit: str | None
) -> None:
    if why is Mismatch.ended:
        raise PromoCodeExpiredError(f"The code {promotion.code} has expired")
    if offer is None:
        reason = (why or Mismatch.plan).value
        raise PromoCodeNotApplicableError(
            f"The code {promotion.code} does not apply to this purchase ({reason})",
            reason=reason,
        )
    if limit is not None:
        raise PromoCodeUsedUpError(f"The code {promotion.code} is used up ({limit})", limit=limit)


def _offer(promotion: Promotion, given: Terms, purchase: Purchase) -> Offer:
    return Offer(
        promotion_id=promotion.id,
        code=promotion.code,
        names=dict(promotion.names),
        terms=given,
        worth_minor=worth_minor(given, purchase),
    )


def _limit_reached(
    session: Session, promotion: Promotion, purchase: Purchase, offer: Offer
) -> str | None:
    if promotion.total_limit is not None and promotion.redeemed_count >= promotion.total_limit:
        return "total"
    if promotion.budget_minor is not None and (
        promotion.spent_minor + offer.terms.discount_minor > promotion.budget_minor
    ):
        return "budget"
    if promotion.per_card_limit is not None and (
        repository.taken_by_card(session, promotion.id, purchase.card_id)
        >= promotion.per_card_limit
    ):
        return "per_card"
    return None


def get(session: Session, promotion_id: int) -> Promotion:
    promotion = repository.get(session, promotion_id)
    if promotion is None:
        raise LookupError(f"promotion {promotion_id} does not exist")
    return promotion
