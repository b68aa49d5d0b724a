"""What a card has left right now: state, validity, allowances, wallet — as domain values
that every channel (API, pages, SMS, USSD) shapes for itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.balance import repository
from tulpar.bundle.allowances import ALLOWANCE_KINDS, DATA, SMS, VOICE, AllowanceKind
from tulpar.card import service as card_service
from tulpar.errors import CardNotFoundError
from tulpar.identifiers import Iccid, parse_card_reference
from tulpar.models import Card, CardState
from tulpar.money import Money
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


def _total(kind: AllowanceKind, bundles: list[repository.BundleFigures]) -> Allowance:
    if any(kind.granted(bundle) is None for bundle in bundles):
        return Allowance(remaining=None, granted=None)
    return Allowance(
        remaining=sum(kind.remaining(bundle) or 0 for bundle in bundles),
        granted=sum(kind.granted(bundle) or 0 for bundle in bundles),
    )


def balance_of(session: Session, card: Card) -> CardBalance:
    """The balance of a card already loaded, in the session's transaction (the statement
    autoflushes, so what this transaction changed is counted)."""
    now = clock.now()
    rows = repository.by_card_id(session, card.id, at=now)
    if rows is None:
        raise CardNotFoundError()
    return _balance(rows, now=now)


def balance_for(session: Session, caller: Caller, reference: str) -> CardBalance:
    """Balance for an ICCID or phone number as typed, if this caller may read the card: one
    statement, nothing written."""
    now = clock.now()
    parsed = parse_card_reference(reference)
    rows = (
        repository.by_iccid(session, parsed.value, at=now)
        if isinstance(parsed, Iccid)
        else repository.by_msisdn(session, parsed.value, at=now)
    )
    if rows is None:
        raise CardNotFoundError()
    auth_service.ensure_may_read_card(caller, rows.card)
    return _balance(rows, now=now)


def _balance(rows: repository.BalanceRows, *, now: datetime) -> CardBalance:
    card = rows.card
    state = card_service.effective_state(card, now=now)
    current = (
        [row.bundle for row in rows.bundles if row.counts_now] if state is CardState.active else []
    )
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
        wallet=Money(rows.wallet_minor, wallet_service.WALLET_CURRENCY),
        bundles=[_bundle_balance(row, now=now) for row in rows.bundles],
        usage_as_of=rows.usage_as_of,
    )


def _bundle_balance(row: repository.BundleRow, *, now: datetime) -> BundleBalance:
    return BundleBalance(
        id=row.bundle.id,
        plan_code=row.plan_code,
        state=_bundle_state(row.bundle, now=now),
        starts_at=row.bundle.starts_at,
        expires_at=row.bundle.expires_at,
        data_bytes=_total(DATA, [row.bundle]),
        voice_seconds=_total(VOICE, [row.bundle]),
        sms_count=_total(SMS, [row.bundle]),
    )


@dataclass(frozen=True, slots=True)
class ListedBundle:
    balance: BundleBalance  # as the card's balance shows it
    order_id: int | None
    created_at: datetime


def bundles_page(
    session: Session,
    caller: Caller,
    reference: str,
    *,
    before: tuple[datetime, int] | None = None,
    limit: int,
) -> list[ListedBundle]:
    """Up to ``limit`` of a card's bundles (every state, newest first) created before
    ``before`` (created_at, id), if this caller may read the card."""
    card = card_service.find(session, reference)
    auth_service.ensure_may_read_card(caller, card)
    now = clock.now()
    return [
        ListedBundle(
            balance=_bundle_balance(row, now=now),
            order_id=row.bundle.order_id,
            created_at=row.bundle.created_at,
        )
        for row in repository.bundles_page(session, card.id, before=before, limit=limit)
    ]


def _bundle_state(bundle: repository.BundleFigures, *, now: datetime) -> str:
    # The stored state may lag the clock until the lifecycle job runs; show the truth.
    if bundle.state.value in ("active", "exhausted", "scheduled"):
        if bundle.expires_at <= now:
            return "expired"
        if bundle.state.value == "scheduled" and bundle.starts_at <= now:
            return "active"
    return bundle.state.value
