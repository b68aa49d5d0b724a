from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card
from tulpar.kit.format import GB
from tulpar.ledger import service as ledger
from tulpar.ledger.service import LedgerMismatch
from tulpar.models import LedgerCause
from tulpar.money import Money
from tulpar.wallet import service as wallet_service
from tulpar.wallet.service import InsufficientFundsError


def test_balances_built_through_services_reconcile(session: Session) -> None:
    card, _ = create_active_card(session)
    wallet_service.move(
        session, card_id=card.id, amount=Money(10_000_00, "KZT"), cause=LedgerCause.manual_credit
    )
    wallet_service.move(
        session, card_id=card.id, amount=Money(-3_500_00, "KZT"), cause=LedgerCause.order
    )

    assert ledger.reconcile(session) == []
    assert wallet_service.balance(session, card_id=card.id) == Money(6_500_00, "KZT")


def test_a_balance_changed_behind_the_ledger_is_reported(session: Session) -> None:
    card, bundle = create_active_card(session)
    session.flush()
    session.execute(
        text("UPDATE bundles SET data_bytes_remaining = data_bytes_remaining - 1 WHERE id = :id"),
        {"id": bundle.id},
    )
    session.execute(
        text("UPDATE wallets SET balance_minor = 5 WHERE card_id = :id"), {"id": card.id}
    )

    assert sorted(ledger.reconcile(session), key=lambda m: m.account) == [
        LedgerMismatch(card.id, bundle.id, "data", 5 * GB - 1, 5 * GB),
        LedgerMismatch(card.id, None, "wallet", 5, 0),
    ]


def test_a_debit_beyond_the_balance_is_refused_and_writes_nothing(session: Session) -> None:
    card = create_card(session)
    wallet_service.move(
        session, card_id=card.id, amount=Money(100, "KZT"), cause=LedgerCause.manual_credit
    )
    entries_before = session.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()

    with pytest.raises(InsufficientFundsError):
        wallet_service.move(
            session, card_id=card.id, amount=Money(-101, "KZT"), cause=LedgerCause.order
        )

    assert wallet_service.balance(session, card_id=card.id) == Money(100, "KZT")
    assert (
        session.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one() == entries_before
    )


def test_the_ledger_is_append_only_arithmetic(session: Session) -> None:
    card = create_card(session)
    wallet_service.move(
        session, card_id=card.id, amount=Money(700, "KZT"), cause=LedgerCause.manual_credit
    )
    rows = session.execute(
        text("SELECT balance_before, delta, balance_after FROM ledger_entries WHERE card_id = :id"),
        {"id": card.id},
    ).all()
    assert [tuple(row) for row in rows] == [(0, 700, 700)]
