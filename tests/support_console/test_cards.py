"""Card actions: wallet and allowance corrections through the ledger, suspension, resending
the confirmation, the language. Each audited with before/after; refusals change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support_console.conftest import Recorded, Scene, rows, staff
from tulpar.errors import ForbiddenError, InvalidInputError
from tulpar.fulfilment import support_actions
from tulpar.ledger import service as ledger_service
from tulpar.models import CardState, LedgerCause, LedgerEntry, Notification, OrderState
from tulpar.wallet import service as wallet_service
from tulpar.wallet.service import InsufficientFundsError

SUPPORT = staff("support")


def test_a_wallet_credit_then_debit_goes_through_the_ledger(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    card_id = failed_order.card.id
    support_actions.credit_wallet(session, SUPPORT, card_id, amount_minor=500_00, reason="sorry")
    support_actions.credit_wallet(session, SUPPORT, card_id, amount_minor=-200_00, reason="typo")

    assert wallet_service.balance(session, card_id=card_id).amount_minor == 300_00
    entries = session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.card_id == card_id,
            LedgerEntry.cause == LedgerCause.manual_credit,
            LedgerEntry.bundle_id.is_(None),
        )
        .order_by(LedgerEntry.id)
    ).all()
    assert [(e.delta, e.actor, e.reason) for e in entries] == [
        (500_00, SUPPORT.actor, "sorry"),
        (-200_00, SUPPORT.actor, "typo"),
    ]
    assert ledger_service.reconcile(session, card_id=card_id) == []
    assert [
        (r.before["wallet_minor"], r.after["wallet_minor"]) for r in audited if r.before and r.after
    ] == [
        (0, 500_00),
        (500_00, 300_00),
    ]


def test_a_debit_below_zero_changes_nothing(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    entries = rows(session, LedgerEntry)
    with pytest.raises(InsufficientFundsError):
        support_actions.credit_wallet(
            session, SUPPORT, failed_order.card.id, amount_minor=-1, reason="x"
        )
    assert rows(session, LedgerEntry) == entries
    assert audited == []


def test_an_allowance_correction(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    card_id = failed_order.card.id
    left = support_actions.adjust_allowance(
        session, SUPPORT, card_id, account="data", delta=1_000_000, reason="outage"
    )
    (record,) = audited
    assert record.before is not None
    assert record.after is not None
    assert record.after["data_remaining"] == record.before["data_remaining"] + 1_000_000
    assert left == record.after["data_remaining"]
    assert ledger_service.reconcile(session, card_id=card_id) == []


def test_an_allowance_of_no_such_kind_changes_nothing(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    entries = rows(session, LedgerEntry)
    with pytest.raises(InvalidInputError):
        support_actions.adjust_allowance(
            session, SUPPORT, failed_order.card.id, account="gold", delta=1, reason="x"
        )
    assert rows(session, LedgerEntry) == entries
    assert audited == []


def test_suspend_and_unsuspend(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    card_id = failed_order.card.id
    support_actions.suspend(session, SUPPORT, card_id, reason="fraud report")
    assert failed_order.card.state is CardState.suspended
    with pytest.raises(support_actions.ActionRefusedError):
        support_actions.suspend(session, SUPPORT, card_id, reason="again")
    support_actions.unsuspend(session, SUPPORT, card_id, reason="cleared")
    assert failed_order.card.state is CardState.active
    assert [
        (r.action, r.before["state"], r.after["state"]) for r in audited if r.before and r.after
    ] == [
        ("card.suspend", "active", "suspended"),
        ("card.unsuspend", "suspended", "active"),
    ]


def test_change_language_and_resend_the_confirmation(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    card_id = failed_order.card.id
    with pytest.raises(support_actions.ActionRefusedError):  # nothing completed yet
        support_actions.resend_confirmation(session, SUPPORT, card_id, reason="lost it")
    failed_order.order.state = OrderState.completed
    session.flush()
    support_actions.change_language(session, SUPPORT, card_id, language="ru", reason="asked")
    with pytest.raises(InvalidInputError):
        support_actions.change_language(session, SUPPORT, card_id, language="xx", reason="x")

    first = support_actions.resend_confirmation(session, SUPPORT, card_id, reason="lost it")
    second = support_actions.resend_confirmation(session, SUPPORT, card_id, reason="again")
    assert first.id != second.id
    assert first.template == "renewal_confirmed"
    assert first.language == "ru"
    assert rows(session, Notification) == 2
    assert [r.action for r in audited] == [
        "card.change_language",
        "card.resend_confirmation",
        "card.resend_confirmation",
    ]
    assert audited[0].before == {"language": "zh-Hans"}
    assert audited[0].after == {"language": "ru"}


@pytest.mark.parametrize("role", ["clerk", "store_manager"])
def test_other_roles_change_nothing(
    session: Session, failed_order: Scene, audited: list[Recorded], role: str
) -> None:
    caller, card_id = staff(role), failed_order.card.id
    entries = rows(session, LedgerEntry)
    for call in (
        lambda: support_actions.credit_wallet(session, caller, card_id, amount_minor=1, reason="x"),
        lambda: support_actions.suspend(session, caller, card_id, reason="x"),
        lambda: support_actions.change_language(
            session, caller, card_id, language="en", reason="x"
        ),
    ):
        with pytest.raises(ForbiddenError):
            call()
    session.refresh(failed_order.card)
    assert (failed_order.card.state, failed_order.card.language) == (CardState.active, "zh-Hans")
    assert rows(session, LedgerEntry) == entries
    assert audited == []
