"""The audit log: every staff action on money, balances, catalog or access, and every card
lookup — who, when, what, and the values before and after. Rows are only ever added (a
database trigger refuses UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.audit import repository
from tulpar.audit.repository import AuditFilter
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.models import AuditEntry

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
__all__ = ["AuditFilter", "entries", "list_for", "record"]


def record(
    session: Session,
    caller: Caller,
    action: str,
    *,
    subject: str,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit row in the caller's transaction (it commits or rolls back with the change
    it describes). ``action`` names what was done (``card.lookup``, ``wallet.credit``),
    ``subject`` what it was done to (``card:42``, ``order:7``); ``before``/``after`` are
    JSON-able values. The staff and store ids come from ``caller``."""
    session.add(
        AuditEntry(
            occurred_at=clock.now(),
            actor=caller.actor[:120],
            staff_id=caller.staff_id,
            store_id=caller.store_id,
            action=action[:64],
            subject=subject[:120],
            reason=reason,
            before=before,
            after=after,
        )
    )
    session.flush()


def entries(
    session: Session, filters: AuditFilter | None = None, *, limit: int = DEFAULT_PAGE_SIZE
) -> list[AuditEntry]:
    """Audit rows newest first, filtered. Who may read them is the caller's concern
    (``audit.read`` in :mod:`tulpar.auth.roles`; see :func:`list_for`)."""
    return repository.entries(
        session, filters or AuditFilter(), limit=max(1, min(limit, MAX_PAGE_SIZE))
    )


def list_for(
    session: Session,
    caller: Caller,
    filters: AuditFilter | None = None,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
) -> list[AuditEntry]:
    """:func:`entries` for a staff caller allowed ``audit.read`` (support, admin); 403
    otherwise."""
    roles.require(caller, "audit.read")
    return entries(session, filters, limit=limit)
