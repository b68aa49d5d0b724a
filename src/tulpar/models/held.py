"""Cards and plans, and rows a transaction has locked, stay in their session until its
transaction ends.

SQLAlchemy's identity map holds what it loaded weakly, so a card or a plan that no variable
holds any more is read again by the next step of the same transaction (a renewal's steps
each ask for its card and plan by id). Held here, a later ``session.get`` finds the copy
without a statement, which is what the repositories already promise ("a copy the session
holds costs no statement"). These rows change through the session (ORM updates keep its
copy in step) and a read that must be current locks the row with ``populate_existing``;
nothing is held past the transaction, so a new one reads afresh. A row locked FOR UPDATE
(:func:`hold`) cannot change under the transaction at all."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tulpar.models.card import Card
from tulpar.models.plan import Plan

_HELD = "tulpar.held"
_HELD_TYPES = (Card, Plan)


@event.listens_for(Session, "loaded_as_persistent")
def _hold(session: Session, instance: object) -> None:
    if isinstance(instance, _HELD_TYPES):
        hold(session, instance)


def hold(session: Session, instance: object) -> None:
    """Keep ``instance`` (a row this transaction has locked) in the session until the
    transaction ends."""
    session.info.setdefault(_HELD, set()).add(instance)


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint in it
        session.info.pop(_HELD, None)
