"""What a card has left right now: state, validity, allowances, wallet — as domain values
that every channel (API, pages, SMS, USSD) shapes for itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import ALLOWANCE_KINDS, DATA, SMS, VOICE, AllowanceKind
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.models import Bundle, Card, CardState
from tulpar.money import Money
from tulpar.rating import service as rating_service
from tulpar.wallet import service as wallet_service


@dataclass(frozen=True, slots=True)
class Allowance:
    """``remaining``/``granted`` are None when unlimited (and only then)."""

    remaining: int | None
    granted: int | None

    @property
    def unlimited(self) -> bool:
        return self.granted is None


@dataclass(frozen=True, slots=True)
class BundleBalance:
    id: int
    plan_code: str
    state: str  # what it is right now, even if the lifecycle job has not caught up
    starts_at: datetime
    expires_at: datetime
    data_bytes: Allowance
    voice_seconds: Allowance
    sms_count: Allowance


@dataclass(frozen=True, slots=True)
class CardBalance:
    iccid: str
    msisdn: str | None
    language: str
    state: CardState
    validity_ends_at: datetime | None
    data_bytes: Allowance
    voice_seconds: Allowance
    sms_count: Allowance
    wallet: Money
    bundles: list[BundleBalance]
    # occurred_at of the newest usage rated for the card: balances are exact as of then.
    usage_as_of: datetime | None


def _total(kind: AllowanceKind, bundles: list[Bundle]) -> Allowance:
    if any(kind.granted(bundle) is None for bundle in bundles):
        return Allowance(remaining=None, granted=None)
    return Allowance(
        remaining=sum(kind.remaining(bundle) or 0 for bundle in bundles),
        granted=sum(kind.granted(bundle) or 0 for bundle in bundles),
    )


def balance_of(session: Session, card: Card) -> CardBalance:
    now = clock.now()
    state = card_service.effective_state(card, now=now)
    current = (
        bundle_service.valid_bundles(session, card, at=now) if state is CardState.active else []
    )
    plan_codes = catalog_service.codes_by_id(session)
    wallet = wallet_service.balance(session, card_id=card.id)
    data, voice, sms = (_total(kind, current) for kind in ALLOWANCE_KINDS)
    return CardBalance(
        iccid=card.iccid,
        msisdn=card.msisdn,
        language=card.language,
        state=state,
        validity_ends_at=card.validity_ends_at,
        data_bytes=data,
        voice_seconds=voice,
        sms_count=sms,
        wallet=wallet,
        bundles=[
            BundleBalance(
                id=bundle.id,
                plan_code=plan_codes.get(bundle.plan_id, "?"),
                state=_bundle_state(bundle, now=now),
                starts_at=bundle.starts_at,
                expires_at=bundle.expires_at,
                data_bytes=_total(DATA, [bundle]),
                voice_seconds=_total(VOICE, [bundle]),
                sms_count=_total(SMS, [bundle]),
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


def balance_for(session: Session, caller: Caller, reference: str) -> CardBalance:
    """Balance for an ICCID or phone number as typed, if this caller may read the card."""
    card = card_service.find(session, reference)
    auth_service.ensure_may_read_card(caller, card)
    return balance_of(session, card)
