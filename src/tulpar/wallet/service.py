"""The card's wallet (KZT). Every movement is one ledger entry."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.errors import TulparError
from tulpar.ledger import service as ledger
from tulpar.models import LedgerAccount, LedgerCause, Wallet
from tulpar.money import Money
from tulpar.wallet import repository

WALLET_CURRENCY = "KZT"


class InsufficientFundsError(TulparError):
    status = 409
    code = "insufficient_funds"
    title = "Not enough money in the wallet"


def open_for_card(session: Session, *, card_id: int) -> None:
    repository.add(session, Wallet(card_id=card_id, currency=WALLET_CURRENCY, balance_minor=0))


def balance(session: Session, *, card_id: int) -> Money:
    return Money(repository.balance(session, card_id), WALLET_CURRENCY)


def move(
    session: Session,
    *,
    card_id: int,
    amount: Money,
    cause: LedgerCause,
    order_id: int | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> Money:
    """Credit (positive) or debit (negative) the wallet; refuses to go below zero."""
    if amount.currency != WALLET_CURRENCY:
        raise TulparError(f"The wallet holds {WALLET_CURRENCY}, not {amount.currency}")
    session.flush()
    after = repository.move(session, card_id=card_id, delta_minor=amount.amount_minor)
    if after is None:
        raise InsufficientFundsError()
    ledger.record(
        session,
        card_id=card_id,
        account=LedgerAccount.wallet,
        delta=amount.amount_minor,
        balance_before=after - amount.amount_minor,
        cause=cause,
        order_id=order_id,
        actor=actor,
        reason=reason,
    )
    return Money(after, WALLET_CURRENCY)
