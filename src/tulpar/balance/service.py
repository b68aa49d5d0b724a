"""What a card has left right now: state, validity, allowances, wallet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.balance.schemas import Allowance, BundleSummary, CardBalance, MoneyAmount
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import ALLOWANCE_KINDS, AllowanceKind
from tulpar.card import service as card_service
from tulpar.catalog import repository as catalog_repository
from tulpar.models import Bundle, Card, CardState
from tulpar.rating import service as rating_service
from tulpar.wallet import service as wallet_service


def _total(kind: AllowanceKind, bundles: list[Bundle]) -> Allowance:
    if any(kind.granted(bundle) is None for bundle in bundles):
        return Allowance(unlimited=True, remaining=None, granted=None)
    return Allowance(
        unlimited=False,
        remaining=sum(kind.remaining(bundle) or 0 for bundle in bundles),
        granted=sum(kind.granted(bundle) or 0 for bundle in bundles),
    )


def _one(kind: AllowanceKind, bundle: Bundle) -> Allowance:
    return _total(kind, [bundle])


def balance_of(session: Session, card: Card) -> CardBalance:
    now = clock.now()
    state = card_service.effective_state(card, now=now)
    current = (
        bundle_service.valid_bundles(session, card, at=now) if state is CardState.active else []
    )
    plan_codes = catalog_repository.codes_by_id(session)
    wallet = wallet_service.balance(session, card_id=card.id)
    data, voice, sms = (_total(kind, current) for kind in ALLOWANCE_KINDS)
    return CardBalance(
        iccid=card.iccid,
        msisdn=card.msisdn,
        state=state.value,
        validity_ends_at=card.validity_ends_at,
        validity_ends_at_local=None
        if card.validity_ends_at is None
        else clock.to_local(card.validity_ends_at),
        data_bytes=data,
        voice_seconds=voice,
        sms_count=sms,
        wallet=MoneyAmount(amount_minor=wallet.amount_minor, currency=wallet.currency),
        bundles=[
            BundleSummary(
                id=bundle.id,
                plan_code=plan_codes.get(bundle.plan_id, "?"),
                state=_bundle_state(bundle, now=now),
                starts_at=bundle.starts_at,
                expires_at=bundle.expires_at,
                data_bytes=_one(ALLOWANCE_KINDS[0], bundle),
                voice_seconds=_one(ALLOWANCE_KINDS[1], bundle),
                sms_count=_one(ALLOWANCE_KINDS[2], bundle),
            )
            for bundle in bundle_service.bundles_of(session, card)
        ],
        usage_as_of=rating_service.usage_as_of(session, card.id),
    )


def _bundle_state(bundle: Bundle, *, now: datetime) -> str:
    # The stored state may lag the clock until the lifecycle job runs; show the truth.
    if bundle.state.value in ("active", "exhausted", "scheduled"):
        if bundle.expires_at <= now:
            return "expired"
        if bundle.state.value == "scheduled" and bundle.starts_at <= now:
            return "active"
    return bundle.state.value


def balance_for(session: Session, reference: str) -> CardBalance:
    """Balance for an ICCID or phone number as typed."""
    return balance_of(session, card_service.find(session, reference))
