"""The ledger: every change of a bundle allowance or a wallet, append-only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.ledger import repository
from tulpar.models import LedgerAccount, LedgerCause, LedgerEntry


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    card_id: int
    bundle_id: int | None
    account: str
    stored: int
    from_ledger: int


def record(
    session: Session,
    *,
    card_id: int,
    account: LedgerAccount,
    delta: int,
    balance_before: int,
    cause: LedgerCause,
    bundle_id: int | None = None,
    order_id: int | None = None,
    usage_record_id: int | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    """Append one entry. The caller has already moved the balance by ``delta``."""
    return repository.add(
        session,
        LedgerEntry(
            card_id=card_id,
            bundle_id=bundle_id,
            account=account,
            delta=delta,
            balance_before=balance_before,
            balance_after=balance_before + delta,
            cause=cause,
            order_id=order_id,
            usage_record_id=usage_record_id,
            actor=actor,
            reason=reason,
        ),
    )


def reconcile(session: Session, *, card_id: int | None = None) -> list[LedgerMismatch]:
    """Every stored balance that differs from the sum of its ledger entries (empty = healthy)."""
    session.flush()
    return [
        LedgerMismatch(
            card_id=int(str(row["card_id"])),
            bundle_id=None if row["bundle_id"] is None else int(str(row["bundle_id"])),
            account=str(row["account"]),
            stored=int(str(row["stored"])),
            from_ledger=int(str(row["from_ledger"])),
        )
        for row in repository.mismatches(session, card_id=card_id)
    ]
